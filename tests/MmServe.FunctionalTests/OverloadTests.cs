using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Abstractions;
using MmServe.Serving;
using MmServe.Engine;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// With one batch slot and one queue slot, a third concurrent request is refused at once with 429 and
/// Retry-After (slowed forward passes keep the first two busy).
/// </summary>
public sealed class OverloadTests : IAsyncLifetime
{
    private readonly MmServeFactory _factory = new(
        new Dictionary<string, string?> { ["Engine:MaxBatchSize"] = "1", ["Engine:MaxQueuedRequests"] = "1" },
        services => services.AddSingleton<IModelExecutorFactory>(sp =>
            new SlowExecutorFactory(ActivatorUtilities.CreateInstance<OnnxExecutorFactory>(sp), TimeSpan.FromMilliseconds(20))));

    public Task InitializeAsync() => _factory.StartAndWaitReadyAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task FullQueue_Is429WithRetryAfter()
    {
        var engine = _factory.Services.GetRequiredService<IGenerationEngine>();
        using var client = _factory.CreateHttpClient();
        var busy = Chat.Request("Count from one to five.", 40);
        busy["ignore_eos"] = true;

        var running = Chat.PostAsync(client, busy);
        Assert.True(await WaitForAsync(() => engine.Stats.Running == 1), "the first request never ran");
        var queued = Chat.PostAsync(client, busy);
        Assert.True(await WaitForAsync(() => engine.Stats.QueuedRequests == 1), "the second request never queued");

        using var refused = await Chat.PostAsync(client, Chat.Request("Hello!"));
        await ErrorAssert.IsOpenAiErrorAsync(refused, HttpStatusCode.TooManyRequests, code: "queue_full");
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);

        // The admitted requests still complete normally.
        using var first = await running;
        using var second = await queued;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Empty(_factory.Logs.ErrorsWithExceptions());
    }

    private static async Task<bool> WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(2);
        }

        return true;
    }
}
