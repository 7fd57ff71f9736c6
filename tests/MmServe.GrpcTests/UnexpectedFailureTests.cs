using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Engine;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>A bug (here: an engine that throws) answers INTERNAL with a request id and no exception text, not UNKNOWN.</summary>
public sealed class UnexpectedFailureTests() : GrpcServer(new MmServeFactory(services: services =>
        services.AddSingleton<IGenerationEngine>(sp => new ThrowingEngine(sp.GetRequiredService<GenerationEngine>()))))
{
    [Fact]
    public async Task ThrowingEngine_IsInternalWithARequestId()
    {
        var client = new ChatService.ChatServiceClient(Channel);
        var e = await Assert.ThrowsAsync<RpcException>(() => StreamedChat.ReadAsync(client, Requests.Text("Hello!")));
        RpcAssert.AssertStatus(e, StatusCode.Internal);
        Assert.Contains("request id", e.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Status.Detail, StringComparison.Ordinal);

        // The exception is in the server's log, for the operator.
        Assert.Contains(Factory.Logs.ErrorsWithExceptions(), entry => entry.Exception!.Message.Contains("secret", StringComparison.Ordinal));
    }

    private sealed class ThrowingEngine(GenerationEngine inner) : IGenerationEngine
    {
        public MmServe.Abstractions.ExecutorInfo ModelInfo => inner.ModelInfo;

        public EngineStats Stats => inner.Stats;

        public ValueTask<GenerationHandle> SubmitAsync(GenerationRequest request, CancellationToken ct = default) =>
            throw new InvalidOperationException("secret internals");
    }
}
