using MmServe.Model.Bundle;
using MmServe.Model.Tokenization;

namespace MmServe.Model.Chat;

/// <summary>Where the embeddings of one media item go: prompt positions [Start, Start + Length).</summary>
public readonly record struct MediaSpan(string Modality, int ItemIndex, int Start, int Length);

/// <summary>A tokenized prompt and the positions of its media placeholder runs, in prompt order.</summary>
public sealed record TokenizedPrompt(int[] Ids, IReadOnlyList<MediaSpan> MediaSpans)
{
    /// <summary>The prompt's own positions when they are not the token index (Qwen2-VL's M-RoPE); set once media are embedded.</summary>
    public Abstractions.SequencePositions? Positions { get; init; }

    /// <summary>The prompt's token types for a visual-expert decoder (CogVLM); set once media are embedded.</summary>
    public Abstractions.SequenceTokenTypes? TokenTypes { get; init; }
}

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
public sealed class PromptBuilder : IPromptBuilder
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

    /// <summary>
    /// Only bundles whose manifest has chat_template.tools (mmserve-tiny-tools) show tools to the model; for the others
    /// forced tool calls still work, "auto" leaves the model unaware.
    /// </summary>
    public bool RendersTools => _template.RendersTools;

    public string TemplateSource => "";

    /// <summary>
    /// Every item of a modality has tokens_per_item positions, except where that is 0 (Fuyu's patch grid): those
    /// items' lengths come from their embeddings.
    /// </summary>
    public bool NeedsMediaLengths => _placeholders.Values.Any(p => p.Count == 0);

    /// <exception cref="ArgumentException">A media part names a modality the model does not take.</exception>
    public TokenizedPrompt Build(IReadOnlyList<ChatTurn> conversation, bool addGenerationPrompt = true, IReadOnlyList<int>? mediaLengths = null, IReadOnlyList<ChatTool>? tools = null)
    {
        var expand = (PromptSegment.Placeholder placeholder) => _placeholders.TryGetValue(placeholder.Modality, out var p)
            ? (p.TokenId, p.Count > 0 ? p.Count : VariableLength(mediaLengths, placeholder.Index))
            : throw new ArgumentException($"the model has no input modality '{placeholder.Modality}'", nameof(conversation));
        return PromptEncoder.Encode(
            _template.RenderSegments(conversation, addGenerationPrompt, tools), _tokenizer, expand, _bosTokenId is { } bos ? [bos] : []);
    }

    private static int VariableLength(IReadOnlyList<int>? mediaLengths, int index) =>
        mediaLengths is not null && index < mediaLengths.Count
            ? mediaLengths[index]
            : throw new ArgumentException("this model's media token counts depend on the items; pass their lengths", nameof(mediaLengths));

    private static int RequireToken(ITextTokenizer tokenizer, string token) =>
        tokenizer.TokenToId(token) ?? throw new ArgumentException($"'{token}' is not a token of the tokenizer");
}
