using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Serving;

namespace MmServe.FunctionalTests.Shutdown;

/// <summary>
/// Engine:ShutdownTimeout bounds the drain even when the requests in flight would run for seconds more (each
/// forward pass slowed to 20 ms, 200 tokens each): when it passes, every stream ends with a finish_reason "abort"
/// chunk and [DONE], a non-streamed answer is a 200 with finish_reason "abort" and the text so far, and the host
/// has stopped within the timeout + 1 s. In-process, with the host stopped as SIGTERM stops it.
/// </summary>
public sealed class DrainDeadlineTests : IAsyncLifetime
{
    private const int Streams = 16;
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(300);

    private readonly MmServeFactory _factory = new(
        new Dictionary<string, string?> { ["Engine:ShutdownTimeout"] = Timeout.ToString("c") },
        services => services.AddSingleton<IModelExecutorFactory>(sp =>
            new SlowExecutorFactory(ActivatorUtilities.CreateInstance<OnnxExecutorFactory>(sp), TimeSpan.FromMilliseconds(20))));

    public Task InitializeAsync() => _factory.StartAndWaitReadyAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task TimeoutPassing_EndsEveryGenerationWithAbort_AndStopsTheHostWithinTimeoutPlusOneSecond()
    {
        using var client = _factory.CreateHttpClient();
        var engine = _factory.Services.GetRequiredService<IGenerationEngine>();
        var started = Enumerable.Range(0, Streams).Select(_ => new TaskCompletionSource()).ToArray();
        var streams = started.Select(s => StreamEnding.ReadAsync(client, StreamEnding.LongStreamRequest(maxTokens: 200), s)).ToArray();
        var whole = Chat.Request("Count to fifty.", maxTokens: 200);
        whole["ignore_eos"] = true;
        var answer = Chat.PostAsync(client, whole);
        await Task.WhenAll(started.Select(s => s.Task)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(await WaitAsync(() => engine.Stats.Running == Streams + 1), $"not all requests are generating: {engine.Stats}");

        var readiness = _factory.Services.GetRequiredService<ModelReadiness>();
        var clock = Stopwatch.StartNew();
        var stopping = _factory.DisposeAsync().AsTask();
        Assert.True(await WaitAsync(() => !readiness.IsReady), "readiness stayed up while stopping");
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        var stoppedAfter = clock.Elapsed;

        var endings = await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(endings, e => Assert.True(e is { IsProper: true, FinishReason: "abort", ContentChunks: > 0 }, $"a stream ended {e}"));
        using var response = await answer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choice = (await Chat.ReadJsonAsync(response)).GetProperty("choices")[0];
        Assert.Equal("abort", choice.GetProperty("finish_reason").GetString());
        Assert.NotEmpty(choice.GetProperty("message").GetProperty("content").GetString()!);
        Assert.True(stoppedAfter <= Timeout + TimeSpan.FromSeconds(1), $"the host stopped {stoppedAfter.TotalSeconds:F2} s after the stop began");
        Assert.Empty(_factory.Logs.ErrorsWithExceptions());
    }

    private static async Task<bool> WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }
}
