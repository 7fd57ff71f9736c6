using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Abstractions;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;
using MmServe.Serving;

namespace MmServe.GrpcTests;

/// <summary>
/// A gRPC call still generating when the server's drain timeout (Engine:ShutdownTimeout) passes ends with
/// UNAVAILABLE and the "unavailable" error code — a status a client retries elsewhere — streamed or unary, never a
/// broken HTTP/2 stream (which a client sees as INTERNAL or UNKNOWN). Each forward pass is slowed to 20 ms, so the
/// calls would otherwise run for seconds.
/// </summary>
public sealed class ShutdownAbortTests() : GrpcServer(new MmServeFactory(
    new Dictionary<string, string?> { ["Engine:ShutdownTimeout"] = "00:00:00.300" },
    services => services.AddSingleton<IModelExecutorFactory>(sp =>
        new SlowExecutorFactory(ActivatorUtilities.CreateInstance<OnnxExecutorFactory>(sp), TimeSpan.FromMilliseconds(20)))))
{
    [Fact]
    public async Task CallsGeneratingWhenTheTimeoutPasses_EndWithUnavailable()
    {
        using var streamed = Chat.StreamChat(LongRequest());
        var unary = Chat.ChatAsync(LongRequest());
        for (int chunks = 0; chunks < 4; chunks++)
        {
            Assert.True(await streamed.ResponseStream.MoveNext(CancellationToken.None));
        }

        var stopping = Factory.DisposeAsync().AsTask();
        var streamEnd = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await streamed.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        var unaryEnd = await Assert.ThrowsAsync<RpcException>(() => unary.ResponseAsync);
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(StatusCode.Unavailable, streamEnd.StatusCode);
        Assert.Equal(StatusCode.Unavailable, unaryEnd.StatusCode);
        Assert.Equal("unavailable", streamEnd.Trailers.GetValue("mmserve-error-code"));
        Assert.Empty(Factory.Logs.ErrorsWithExceptions());
    }

    private static ChatRequest LongRequest()
    {
        var request = Requests.Text("Count from one to five.", 200);
        request.Sampling.IgnoreEos = true;
        return request;
    }
}
