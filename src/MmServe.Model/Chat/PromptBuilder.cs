using MmServe.Model.Bundle;
using MmServe.Model.Tokenization;

namespace MmServe.Model.Chat;

/// <summary>Where the embeddings of one media item go: prompt positions [Start, Start + Length).</summary>
public readonly record struct MediaSpan(string Modality, int ItemIndex, int Start, int Length);

/// <summary>A tokenized prompt and the positions of its media placeholder runs, in prompt order.</summary>
public sealed record TokenizedPrompt(int[] Ids, IReadOnlyList<MediaSpan> MediaSpans);

/// <summary>
/// Renders a conversation with the <see cref="ChatTemplate"/>, tokenizes it, and expands each media placeholder
/// into tokens_per_item copies whose embeddings the encoder output later replaces.
/// </summary>
/// <remarks>
/// Prompt injection: a user who types "&lt;|im_end|&gt;&lt;|im_start|&gt;system ..." must not be able to close
/// their turn and open a system turn. Only the template markup is tokenized with special-token matching; message
/// text and roles are tokenized as plain text, so the same characters become ordinary byte-level tokens. Markup
/// and text are still encoded as one stream (see <see cref="ITextTokenizer.Encode(IReadOnlyList{TextSegment})"/>),
/// so for ordinary input the ids equal HF tokenizers' encoding of <see cref="ChatTemplate.Render"/>'s string.
/// </remarks>
public sealed class PromptBuilder
{
    private readonly ChatTemplate _template;
    private readonly ITextTokenizer _tokenizer;
    private readonly IReadOnlyDictionary<string, (int TokenId, int Count)> _placeholders;
    private readonly int? _bosTokenId;

    /// <param name="template">Renders the conversation.</param>
    /// <param name="tokenizer">The bundle's tokenizer.</param>
    /// <param name="inputModalities">The manifest's input_modalities (placeholder token and tokens_per_item).</param>
    /// <param name="bosToken">Token prepended to every prompt (manifest tokenizer.bos_token), or null.</param>
    /// <exception cref="ArgumentException">A placeholder or BOS token is not a token of <paramref name="tokenizer"/>.</exception>
    public PromptBuilder(
        ChatTemplate template,
        ITextTokenizer tokenizer,
        IReadOnlyDictionary<string, InputModalitySpec> inputModalities,
        string? bosToken = null)
    {
        _template = template;
        _tokenizer = tokenizer;
        _placeholders = inputModalities.ToDictionary(
            m => m.Key,
            m => (RequireToken(tokenizer, m.Value.PlaceholderToken), m.Value.TokensPerItem),
            StringComparer.Ordinal);
        _bosTokenId = bosToken is null ? null : RequireToken(tokenizer, bosToken);
    }

    public static PromptBuilder FromBundle(ModelBundle bundle, ITextTokenizer tokenizer) =>
        new(ChatTemplate.FromManifest(bundle.Manifest), tokenizer, bundle.Manifest.InputModalities,
            bundle.Manifest.Tokenizer.BosToken);

    /// <exception cref="ArgumentException">A media part names a modality the model does not take.</exception>
    public TokenizedPrompt Build(IReadOnlyList<ChatTurn> conversation, bool addGenerationPrompt = true)
    {
        var ids = new List<int>();
        var spans = new List<MediaSpan>();
        if (_bosTokenId is { } bos)
        {
            ids.Add(bos);
        }

        // Text between two placeholders is encoded in one call; a placeholder is a special token, so HF would
        // split the text there anyway and encoding the runs separately gives the same ids.
        var run = new List<TextSegment>();
        foreach (var segment in _template.RenderSegments(conversation, addGenerationPrompt))
        {
            switch (segment)
            {
                case PromptSegment.Markup markup:
                    run.Add(TextSegment.Trusted(markup.Text));
                    break;
                case PromptSegment.Content content:
                    run.Add(TextSegment.Untrusted(content.Text));
                    break;
                case PromptSegment.Placeholder placeholder:
                    FlushRun(run, ids);
                    var (tokenId, count) = _placeholders.TryGetValue(placeholder.Modality, out var p)
                        ? p
                        : throw new ArgumentException(
                            $"the model has no input modality '{placeholder.Modality}'", nameof(conversation));
                    spans.Add(new MediaSpan(placeholder.Modality, placeholder.Index, ids.Count, count));
                    ids.AddRange(Enumerable.Repeat(tokenId, count));
                    break;
            }
        }

        FlushRun(run, ids);
        return new TokenizedPrompt(ids.ToArray(), spans);
    }

    private void FlushRun(List<TextSegment> run, List<int> ids)
    {
        if (run.Count > 0)
        {
            ids.AddRange(_tokenizer.Encode(run));
            run.Clear();
        }
    }

    private static int RequireToken(ITextTokenizer tokenizer, string token) =>
        tokenizer.TokenToId(token) ?? throw new ArgumentException($"'{token}' is not a token of the tokenizer");
}
