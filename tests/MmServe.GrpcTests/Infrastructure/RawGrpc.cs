using Grpc.Core;
using Grpc.Net.Client;

namespace MmServe.GrpcTests.Infrastructure;

/// <summary>
/// Calls a gRPC method with hand-made request bytes, so tests can send what no generated client would (strings that
/// are not UTF-8, truncated or random protobuf). Responses are read as bytes and ignored.
/// </summary>
public static class RawGrpc
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    /// <summary>The call's final status: OK when it succeeded, else what it failed with (trailers included).</summary>
    public static async Task<RpcException?> CallAsync(GrpcChannel channel, string service, string method, MethodType type, byte[] request, TimeSpan? timeout = null)
    {
        var invoker = channel.CreateCallInvoker();
        var options = new CallOptions(deadline: DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30)));
        try
        {
            if (type == MethodType.ServerStreaming)
            {
                using var call = invoker.AsyncServerStreamingCall(new Method<byte[], byte[]>(type, service, method, Bytes, Bytes), null, options, request);
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                }
            }
            else
            {
                using var call = invoker.AsyncUnaryCall(new Method<byte[], byte[]>(type, service, method, Bytes, Bytes), null, options, request);
                await call.ResponseAsync;
            }

            return null;
        }
        catch (RpcException e)
        {
            return e;
        }
    }
}
