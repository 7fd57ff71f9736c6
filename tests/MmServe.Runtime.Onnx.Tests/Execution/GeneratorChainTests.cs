using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// Output projector + generator as one chain: equal to PyTorch's reference on its recorded signal hidden states,
/// alone and coalesced with other requests' items.
/// </summary>
public sealed class GeneratorChainTests(ReferenceBundle reference) : IClassFixture<ReferenceBundle>
{
    [Theory]
    [InlineData("image", "image_generation", "image")]
    [InlineData("audio", "audio_generation", "waveform")]
    public async Task Chain_MatchesPyTorch_AloneAndBatched(string modality, string archive, string outputName)
    {
        var spec = reference.Bundle.Manifest.OutputModalities[modality];
        using var chain = new GeneratorChain(reference.Bundle, spec, reference.Sessions);
        var arrays = Npy.ReadArchive(Path.Combine(TestPaths.Golden, "components", archive + ".npz"));
        var hidden = arrays["signal_hidden_states"];
        var expected = arrays[outputName].AsFloat32();
        int items = (int)hidden.Shape[0];
        Assert.Equal(spec.SignalTokens.Count, chain.SignalTokens);
        Assert.Equal(expected.Length / items, chain.OutputLength);

        var batched = chain.Run(hidden.AsFloat32(), items, CancellationToken.None);
        AssertClose(expected, batched);

        await using var batcher = new ComponentBatcher(chain, maxBatch: 8, TimeSpan.FromMilliseconds(20), NullLogger.Instance, maxConcurrentRuns: 1);
        var all = hidden.AsFloat32();
        var single = await Task.WhenAll(Enumerable.Range(0, items).Select(i =>
            batcher.RunAsync(all.AsSpan(i * chain.InputLength, chain.InputLength).ToArray(), CancellationToken.None)));
        AssertClose(expected, single.SelectMany(x => x).ToArray());
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4, $"value {i}: {expected[i]} vs {actual[i]}");
        }
    }
}

/// <summary>A run whose every caller has gone away is terminated instead of finishing for nobody.</summary>
public sealed class ComponentBatcherAbandonTests
{
    [Fact]
    public async Task RunWhoseCallersAllCancelled_IsTerminated()
    {
        var chain = new BlockingChain();
        await using var batcher = new ComponentBatcher(chain, maxBatch: 4, TimeSpan.Zero, NullLogger.Instance, maxConcurrentRuns: 1);
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var a = batcher.RunAsync([1f], first.Token);
        Assert.True(chain.Started.Wait(TimeSpan.FromSeconds(10)), "the run never started");
        var b = batcher.RunAsync([2f], second.Token); // queued behind the running one

        await first.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, batcher.AbandonedRuns);

        // The next item still runs (and is released by its own cancellation, proving the slot was freed).
        Assert.True(chain.SecondStarted.Wait(TimeSpan.FromSeconds(10)), "the slot was not freed");
        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, batcher.AbandonedRuns);
    }

    [Fact]
    public async Task RunWithOneLiveCaller_Completes()
    {
        var chain = new BlockingChain { BlockUntilCancelled = false };
        await using var batcher = new ComponentBatcher(chain, maxBatch: 4, TimeSpan.FromMilliseconds(200), NullLogger.Instance, maxConcurrentRuns: 1);
        using var gone = new CancellationTokenSource();
        var a = batcher.RunAsync([1f], gone.Token);
        var b = batcher.RunAsync([2f], CancellationToken.None);
        await gone.CancelAsync();

        var result = await b.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new[] { 2f }, result);
        Assert.Equal(0, batcher.AbandonedRuns);
        _ = a.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>Echoes its inputs; optionally blocks each run until its token fires, like a long ORT run.</summary>
    private sealed class BlockingChain : IBatchedChain
    {
        private int _runs;

        public bool BlockUntilCancelled { get; init; } = true;

        public ManualResetEventSlim Started { get; } = new();

        public ManualResetEventSlim SecondStarted { get; } = new();

        public int InputLength => 1;

        public int OutputLength => 1;

        public float[] Run(ReadOnlyMemory<float> inputs, int count, CancellationToken ct)
        {
            (Interlocked.Increment(ref _runs) == 1 ? Started : SecondStarted).Set();
            if (BlockUntilCancelled)
            {
                ct.WaitHandle.WaitOne();
                ct.ThrowIfCancellationRequested();
            }

            return inputs[..count].ToArray();
        }
    }
}
