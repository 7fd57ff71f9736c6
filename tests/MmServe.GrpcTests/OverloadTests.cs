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
/// With one batch slot and one queue slot, a third concurrent call is refused at once with RESOURCE_EXHAUSTED and
/// a retry pushback (slowed forward passes keep the first two busy); the admitted ones still complete.
/// </summary>
public sealed class OverloadTests() : GrpcServer(new MmServeFactory(
        new Dictionary<string, string?> { ["Engine:MaxBatchSize"] = "1", ["Engine:MaxQueuedRequests"] = "1" },
        services => services.AddSingleton<IModelExecutorFactory>(sp =>
            new SlowExecutorFactory(ActivatorUtilities.CreateInstance<OnnxExecutorFactory>(sp), TimeSpan.FromMilliseconds(20)))))
{
    [Fact]
    public async Task FullQueue_IsResourceExhaustedWithRetryPushback()
    {
        var engine = Factory.Services.GetRequiredService<IGenerationEngine>();
        var client = new ChatService.ChatServiceClient(Channel);
        var busy = Requests.Text("Count from one to five.", 40);
        busy.Sampling.IgnoreEos = true;

        var running = client.ChatAsync(busy).ResponseAsync;
        Assert.True(await Wait.ForAsync(() => engine.Stats.Running == 1, TimeSpan.FromSeconds(5)), "the first call never ran");
        var queued = client.ChatAsync(busy).ResponseAsync;
        Assert.True(await Wait.ForAsync(() => engine.Stats.QueuedRequests == 1, TimeSpan.FromSeconds(5)), "the second call never queued");

        var e = await Assert.ThrowsAsync<RpcException>(() => StreamedChat.ReadAsync(client, Requests.Text("Hello!")));
        RpcAssert.AssertStatus(e, StatusCode.ResourceExhausted, "queue_full");
        Assert.Equal("1000", e.Trailers.GetValue("grpc-retry-pushback-ms"));

        Assert.Equal(40, (await running).Usage.CompletionTokens);
        Assert.Equal(40, (await queued).Usage.CompletionTokens);
        Assert.Empty(Factory.Logs.ErrorsWithExceptions());
    }
}
