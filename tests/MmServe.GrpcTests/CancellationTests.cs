using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Abstractions;
using MmServe.Serving;
using MmServe.Engine;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// A gRPC client that cancels mid-stream, or whose deadline expires mid-generation, stops its decoding: the
/// engine releases the request's slot within a few steps. Each forward pass is slowed to 20 ms so the request
/// would otherwise run for seconds.
/// </summary>
public sealed class CancellationTests() : GrpcServer(new MmServeFactory(services: services =>
        services.AddSingleton<IModelExecutorFactory>(sp =>
            new SlowExecutorFactory(ActivatorUtilities.CreateInstance<OnnxExecutorFactory>(sp), StepDelay))))
{
    private const int MaxTokens = 200;
    private static readonly TimeSpan StepDelay = TimeSpan.FromMilliseconds(20);

    private IGenerationEngine Engine => Factory.Services.GetRequiredService<IGenerationEngine>();

    [Fact]
    public async Task CancelMidStream_StopsDecodingAndFreesTheSlot()
    {
        var before = Engine.Stats;
        Assert.Equal(0, before.Running);
        using var cancel = new CancellationTokenSource();
        using var call = new ChatService.ChatServiceClient(Channel).StreamChat(LongRequest(), cancellationToken: cancel.Token);

        // Wait until tokens are flowing: the started chunk plus a few deltas.
        int chunks = 0;
        while (chunks < 4 && await call.ResponseStream.MoveNext(cancel.Token))
        {
            chunks++;
        }

        Assert.Equal(4, chunks);
        Assert.Equal(1, Engine.Stats.Running);
        await cancel.CancelAsync();
        long stepsAtCancel = Engine.Stats.Steps;

        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await AssertSlotFreedAsync(before, stepsAtCancel);
    }

    [Fact]
    public async Task DeadlineExpiringMidGeneration_IsDeadlineExceededAndFreesTheSlot()
    {
        var before = Engine.Stats;
        var client = new ChatService.ChatServiceClient(Channel);
        var started = DateTime.UtcNow;

        // 200 slowed steps take 4 s or more; the deadline leaves time for the prefill and a few decode steps.
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            client.ChatAsync(LongRequest(), deadline: DateTime.UtcNow.AddMilliseconds(500)).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), $"the call took {DateTime.UtcNow - started}");
        Assert.True(Engine.Stats.Steps > before.Steps, "the request never started generating");
        await AssertSlotFreedAsync(before, Engine.Stats.Steps);
    }

    private async Task AssertSlotFreedAsync(EngineStats before, long stepsAtCancel)
    {
        var released = await Wait.ForAsync(() => Engine.Stats is { Running: 0 } s && s.ReleasedSlots == before.ReleasedSlots + 1, TimeSpan.FromSeconds(2));
        Assert.True(released, $"slot not released: {Engine.Stats}");
        long stepsAtRelease = Engine.Stats.Steps;

        // Decoding stopped within a few steps of the cancellation (server-side detection included) ...
        Assert.True(stepsAtRelease - stepsAtCancel <= 5, $"{stepsAtRelease - stepsAtCancel} steps after the cancellation");

        // ... long before max_tokens, and nothing runs afterwards.
        Assert.True(stepsAtRelease - before.Steps < MaxTokens / 4, $"{stepsAtRelease - before.Steps} steps in all");
        await Task.Delay(StepDelay * 5);
        Assert.Equal(stepsAtRelease, Engine.Stats.Steps);
        Assert.Empty(Factory.Logs.ErrorsWithExceptions());
    }

    private static ChatRequest LongRequest()
    {
        var request = Requests.Text("Count from one to five.", MaxTokens);
        request.Sampling.IgnoreEos = true;
        return request;
    }
}
