using System.Collections.Concurrent;

namespace MmServe.Soak.Load;

/// <summary>
/// Keeps exactly C requests in flight until stopped: each of C loops sends its next request as soon as the last one
/// ended. Chat: alternating text and image so that half the traffic carries a unique image. Transcription: the audio
/// files in turn. Counts outcomes for the sampler.
/// </summary>
internal sealed class SoakLoad(Func<Random, bool, CancellationToken, Task<StreamOutcome>> send, int concurrency, int seed)
{
    /// <summary>Streaming chat completions, half with a unique image.</summary>
    public static SoakLoad Chat(StreamingClient client, string model, int concurrency, int maxTokens, int seed) =>
        new((rng, withImage, ct) => client.SendAsync(SoakRequest.Build(model, rng, withImage, maxTokens), ct), concurrency, seed);

    /// <summary>Transcriptions of the given files, each loop starting at its own file.</summary>
    public static SoakLoad Transcriptions(TranscriptionClient client, IReadOnlyList<byte[]> audio, string model, int concurrency, int seed)
    {
        long next = 0;
        return new((_, _, ct) => client.SendAsync(audio[(int)(Interlocked.Increment(ref next) % audio.Count)], model, ct), concurrency, seed);
    }

    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
    private long _ok;
    private long _failed;

    public long Ok => Interlocked.Read(ref _ok);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Each kind of failure seen so far, with its count.</summary>
    public IReadOnlyDictionary<string, int> Errors => _errors;

    public Task RunAsync(CancellationToken ct) =>
        Task.WhenAll(Enumerable.Range(0, concurrency).Select(i => LoopAsync(i, ct)));

    private async Task LoopAsync(int index, CancellationToken ct)
    {
        var rng = new Random(unchecked((seed * 1_000_003) + index)); // not HashCode.Combine: that is salted per process
        bool withImage = index % 2 == 0; // streams start staggered between the two kinds, then alternate
        while (!ct.IsCancellationRequested)
        {
            bool image = withImage;
            withImage = !withImage;
            try
            {
                var outcome = await send(rng, image, ct).ConfigureAwait(false);
                if (outcome.Ok)
                {
                    Interlocked.Increment(ref _ok);
                    continue;
                }

                Interlocked.Increment(ref _failed);
                _errors.AddOrUpdate(outcome.Error!, 1, (_, n) => n + 1);
                await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false); // no hot loop against a dead server
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return; // stopped mid-request: neither a success nor a failure
            }
        }
    }
}
