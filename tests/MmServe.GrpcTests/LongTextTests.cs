using Grpc.Core;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>Over gRPC too, text that cannot fit the context is refused from its length, before tokenizing.</summary>
public sealed class LongTextTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>
{
    [Fact]
    public async Task MegabytesOfText_AreInvalidArgumentJudgedFromTheirLength()
    {
        var e = await RpcAssert.ChatFailsAsync(server.Chat, Requests.Text(new string('a', 1_500_000), 4), StatusCode.InvalidArgument, "context_length_exceeded");

        Assert.Contains("judged from their length, before tokenizing", e.Status.Detail, StringComparison.Ordinal);
    }
}
