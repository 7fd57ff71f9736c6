using MmServe.Abstractions;
using MmServe.Engine.Output;

namespace MmServe.Engine.Tests.Output;

public sealed class OutputCollectorTests
{
    [Fact]
    public async Task DeltasPostedBeforeARead_AreMergedIntoOne_ThenTheTerminalEventEndsTheStream()
    {
        var collector = new RequestOutputCollector(wantsLogprobs: true, hiddenSize: 0);
        collector.PostDelta(3, "a", new TokenLogprob(3, -0.5f, []), [], 0);
        collector.PostDelta(4, "", new TokenLogprob(4, -0.1f, []), [], 0);
        collector.PostText("bc");
        collector.Complete(new FinishedEvent(FinishReason.Length, 2, 2));
        collector.PostDelta(5, "late", null, [], 0);

        var events = new List<GenerationEvent>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await foreach (var item in collector.ReadAllAsync(cts.Token))
        {
            events.Add(item);
        }

        Assert.Equal(2, events.Count);
        var delta = Assert.IsType<TokenDeltaEvent>(events[0]);
        Assert.Equal([3, 4], delta.TokenIds);
        Assert.Equal("abc", delta.Text);
        Assert.Equal([3, 4], delta.Logprobs!.Select(l => l.TokenId));
        Assert.IsType<FinishedEvent>(events[1]);
        Assert.True(collector.Completion.IsCompleted);
        Assert.False(await collector.WaitToReadAsync());
    }

    [Fact]
    public async Task WaitingReader_IsWokenByTheNextPost()
    {
        var collector = new RequestOutputCollector(wantsLogprobs: false, hiddenSize: 2);
        var read = collector.ReadAsync().AsTask();
        Assert.False(read.IsCompleted);

        collector.PostDelta(7, "h", null, [1f, 2f], hiddenStartPosition: 4);

        var delta = Assert.IsType<TokenDeltaEvent>(await read.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Null(delta.Logprobs);
        Assert.Equal(4, delta.HiddenStates!.StartPosition);
        Assert.Equal([1f, 2f], delta.HiddenStates.Values.ToArray());
    }

    [Fact]
    public async Task WaitToRead_HonoursTheReadersCancellation()
    {
        var collector = new RequestOutputCollector(wantsLogprobs: false, hiddenSize: 0);
        using var cts = new CancellationTokenSource();
        var wait = collector.WaitToReadAsync(cts.Token).AsTask();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
