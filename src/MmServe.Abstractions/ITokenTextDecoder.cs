namespace MmServe.Abstractions;

/// <summary>
/// Turns generated token ids into text for the engine (stop strings, streaming deltas). The real implementation
/// (HF byte-level BPE) lives with the tokenizer; it is thread-safe and shared by all workers.
/// </summary>
public interface ITokenTextDecoder
{
    /// <summary>A fresh decoder holding the text state of one request.</summary>
    IIncrementalDecoder CreateIncrementalDecoder();

    /// <summary>Whether <paramref name="tokenId"/> ends a sequence (the model's EOS set, from its bundle manifest).</summary>
    bool IsEos(int tokenId);
}

/// <summary>
/// Per-request streaming detokenizer. Text is returned only once it is complete, e.g. a multi-byte UTF-8
/// character split over several byte tokens comes out with the token that completes it.
/// </summary>
public interface IIncrementalDecoder
{
    /// <summary>Appends a token and returns the newly completed text (possibly empty).</summary>
    string Push(int tokenId);

    /// <summary>Returns any text still buffered (e.g. an incomplete character, replaced) at the end of the sequence.</summary>
    string Flush();
}
