using System.Diagnostics;
using MmServe.Bench.Client;
using MmServe.PeerBench.Workload;

namespace MmServe.PeerBench.GenAi;

/// <summary>A request handed to an ORT GenAI service: when it was sent, and where its result goes.</summary>
internal sealed class PendingRequest(PeerRequest request)
{
    public PeerRequest Request { get; } = request;

    public long Sent { get; } = Stopwatch.GetTimestamp();

    public TaskCompletionSource<RequestResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes the request from the timestamps of its generation steps (a token each): TTFT from send to the first,
    /// the gaps between the rest, latency to its last token — what a streaming .NET service would report.
    /// </summary>
    public void Complete(ReadOnlySpan<long> stepTimes)
    {
        int tokens = Request.OutputTokens;
        var itls = new double[tokens - 1];
        for (int k = 1; k < tokens; k++)
        {
            itls[k - 1] = Stopwatch.GetElapsedTime(stepTimes[k - 1], stepTimes[k]).TotalSeconds;
        }

        Done.TrySetResult(new RequestResult(
            Request.Index, false, true, null,
            Stopwatch.GetElapsedTime(Sent, stepTimes[0]).TotalSeconds,
            itls,
            Stopwatch.GetElapsedTime(Sent, stepTimes[tokens - 1]).TotalSeconds,
            Request.PromptTokens,
            tokens));
    }

    public void Fail(Exception e) =>
        Done.TrySetResult(RequestResult.Failed(Request.Index, false, $"{e.GetType().Name}: {e.Message}", Stopwatch.GetElapsedTime(Sent).TotalSeconds));
}
