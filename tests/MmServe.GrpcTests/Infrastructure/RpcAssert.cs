using Grpc.Core;
using MmServe.Grpc.V1;

namespace MmServe.GrpcTests.Infrastructure;

/// <summary>Asserts that a call fails with a given status, OpenAI-style code and offending field.</summary>
public static class RpcAssert
{
    public const string CodeTrailer = "mmserve-error-code";
    public const string ParamTrailer = "mmserve-error-param";

    /// <summary>Runs the request as a StreamChat and as a unary Chat: both must fail the same way.</summary>
    public static async Task<RpcException> ChatFailsAsync(
        ChatService.ChatServiceClient client, ChatRequest request, StatusCode status, string? code = null, string? param = null)
    {
        var streamed = await Assert.ThrowsAsync<RpcException>(() => StreamedChat.ReadAsync(client, request));
        AssertStatus(streamed, status, code, param);
        var unary = await Assert.ThrowsAsync<RpcException>(() => client.ChatAsync(request).ResponseAsync);
        AssertStatus(unary, status, code, param);
        Assert.Equal(streamed.Status.Detail, unary.Status.Detail);
        return streamed;
    }

    public static void AssertStatus(RpcException e, StatusCode status, string? code = null, string? param = null)
    {
        Assert.True(e.StatusCode == status, $"expected {status}, got {e.StatusCode}: {e.Status.Detail}");
        Assert.False(string.IsNullOrWhiteSpace(e.Status.Detail));
        Assert.DoesNotContain("Exception", e.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", e.Status.Detail, StringComparison.Ordinal);
        if (code is not null)
        {
            Assert.Equal(code, e.Trailers.GetValue(CodeTrailer));
        }

        if (param is not null)
        {
            Assert.Equal(param, e.Trailers.GetValue(ParamTrailer));
        }
    }
}
