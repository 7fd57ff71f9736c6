using MmServe.Model.Tokenization;

namespace MmServe.Model.Chat;

/// <summary>
/// Tokenizes rendered prompt segments: markup with special-token matching, content without, and each placeholder
/// expanded into the run of positions its media item's embeddings will fill.
/// </summary>
internal static class PromptEncoder
{
    /// <param name="expand">The placeholder's token id and how many positions its item takes.</param>
    /// <param name="prefix">Ids before the prompt (BOS), e.g. from the tokenizer's post-processor.</param>
    /// <param name="suffix">Ids after it.</param>
    public static TokenizedPrompt Encode(
        IEnumerable<PromptSegment> segments,
        ITextTokenizer tokenizer,
        Func<PromptSegment.Placeholder, (int TokenId, int Count)> expand,
        IReadOnlyList<int> prefix,
        IReadOnlyList<int>? suffix = null)
    {
        var ids = new List<int>(prefix);
        var spans = new List<MediaSpan>();

        // Text between two placeholders is encoded in one call; a placeholder is a special token, so HF would
        // split the text there anyway and encoding the runs separately gives the same ids.
        var run = new List<TextSegment>();
        foreach (var segment in segments)
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
                    Flush(run, ids, tokenizer);
                    var (tokenId, count) = expand(placeholder);
                    spans.Add(new MediaSpan(placeholder.Modality, placeholder.Index, ids.Count, count));
                    ids.AddRange(Enumerable.Repeat(tokenId, count));
                    break;
            }
        }

        Flush(run, ids, tokenizer);
        if (suffix is not null)
        {
            ids.AddRange(suffix);
        }

        return new TokenizedPrompt(ids.ToArray(), spans);
    }

    private static void Flush(List<TextSegment> run, List<int> ids, ITextTokenizer tokenizer)
    {
        if (run.Count > 0)
        {
            ids.AddRange(tokenizer.Encode(run));
            run.Clear();
        }
    }
}
