namespace MmServe.Bench.Client;

/// <summary>
/// What one streamed request measured. Times are seconds: Ttft from send to the first chunk with content, Itls
/// the gaps between consecutive chunks with content, Latency from send to the end of the stream.
/// </summary>
internal sealed record RequestResult(
    int Index,
    bool HasImage,
    bool Success,
    string? Error,
    double Ttft,
    IReadOnlyList<double> Itls,
    double Latency,
    int PromptTokens,
    int CompletionTokens)
{
    public static RequestResult Failed(int index, bool hasImage, string error, double latency) =>
        new(index, hasImage, false, error, 0, [], latency, 0, 0);
}
