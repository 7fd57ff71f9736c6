using System.Net;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// Text that cannot fit the context is refused from its length before tokenizing (the battery's 5 MB text part cost
/// 2.7 s of BPE before its 400); the test server's body limit is 2 MiB, so 1.5 MB stands in for it.
/// </summary>
public sealed class LongTextTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MegabytesOfText_Are400ContextLengthExceededJudgedFromTheirLength(bool stream)
    {
        var body = Chat.Request(new string('a', 1_500_000), 4);
        body["stream"] = stream;

        using var response = await Chat.PostAsync(server.Client, body);

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages", "context_length_exceeded");
        Assert.Contains("judged from their length, before tokenizing", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
