using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// Encoder work coalesced across callers gives each caller exactly what its own run would have, shares runs
/// when items arrive together, and drops items whose caller gave up.
/// </summary>
public sealed class ComponentBatcherTests(ReferenceBundle reference) : IClassFixture<ReferenceBundle>
{
    [Fact]
    public async Task ConcurrentItems_ShareRuns_AndEachGetsItsOwnEmbeddings()
    {
        var image = reference.Bundle.Manifest.InputModalities["image"];
        using var chain = new EncoderChain(reference.Bundle, image.Encoder!, image.Projector!, reference.Sessions);
        await using var batcher = new ComponentBatcher(chain, maxBatch: 8, TimeSpan.FromMilliseconds(50), NullLogger.Instance, maxConcurrentRuns: 1);
        var random = new Random(3);
        var inputs = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, chain.InputLength).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();

        var outputs = await Task.WhenAll(inputs.Select(i => batcher.RunAsync(i, CancellationToken.None)));

        var (runs, items) = batcher.Stats;
        Assert.Equal(12, items);
        Assert.InRange(runs, 2, 6); // 12 items queued at once, at most 8 per run
        for (int i = 0; i < inputs.Length; i++)
        {
            var alone = chain.Encode(inputs[i], 1, CancellationToken.None);
            Assert.Equal(alone.Length, outputs[i].Length);
            for (int j = 0; j < alone.Length; j++)
            {
                Assert.True(Math.Abs(alone[j] - outputs[i][j]) <= 1e-5, $"item {i} value {j}: {alone[j]} vs {outputs[i][j]}");
            }
        }
    }

    [Fact]
    public async Task ItemsOfACancelledCaller_AreDroppedBeforeTheRun()
    {
        var audio = reference.Bundle.Manifest.InputModalities["audio"];
        using var chain = new EncoderChain(reference.Bundle, audio.Encoder!, audio.Projector!, reference.Sessions);
        await using var batcher = new ComponentBatcher(chain, maxBatch: 4, TimeSpan.Zero, NullLogger.Instance);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var dropped = batcher.RunAsync(new float[chain.InputLength], cancelled.Token);
        var kept = await batcher.RunAsync(new float[chain.InputLength], CancellationToken.None);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
        Assert.Equal(chain.TokensPerItem * chain.HiddenSize, kept.Length);
        Assert.Equal(1, batcher.Stats.Items);
    }

    [Fact]
    public async Task WrongInputLength_IsAProgrammingError()
    {
        var image = reference.Bundle.Manifest.InputModalities["image"];
        using var chain = new EncoderChain(reference.Bundle, image.Encoder!, image.Projector!, reference.Sessions);
        await using var batcher = new ComponentBatcher(chain, maxBatch: 4, TimeSpan.Zero, NullLogger.Instance);

        await Assert.ThrowsAsync<ArgumentException>(() => batcher.RunAsync(new float[3], CancellationToken.None));
    }
}

public sealed class ComponentBatcherSequentialTests(ReferenceBundle reference) : IClassFixture<ReferenceBundle>
{
    [Fact]
    public async Task ManySequentialItems_AllComplete()
    {
        var image = reference.Bundle.Manifest.InputModalities["image"];
        using var chain = new EncoderChain(reference.Bundle, image.Encoder!, image.Projector!, reference.Sessions);
        await using var batcher = new ComponentBatcher(chain, maxBatch: 16, TimeSpan.Zero, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        for (int i = 0; i < 50; i++)
        {
            var task = batcher.RunAsync(new float[chain.InputLength], CancellationToken.None);
            var done = await Task.WhenAny(task, Task.Delay(5000));
            Assert.True(done == task, $"item {i} did not complete");
        }
    }
}
