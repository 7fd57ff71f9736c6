using Microsoft.Extensions.Logging;
using System.Net;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Telemetry;

/// <summary>Every admitted request leaves one Information line with its model, outcome, token counts and timings.</summary>
public sealed class RequestSummaryLogTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task AnsweredRequest_LogsOneSummaryLineWithItsUsage()
    {
        var body = Chat.Request("Count from one to five.", 6);
        using var response = await Chat.PostAsync(server.Client, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await Chat.ReadJsonAsync(response);
        var usage = answer.GetProperty("usage");
        var reason = answer.GetProperty("choices")[0].GetProperty("finish_reason").GetString();
        var expected = $"({Chat.Model}) finished: {reason}: {usage.GetProperty("prompt_tokens").GetInt32()} prompt + {usage.GetProperty("completion_tokens").GetInt32()} completion tokens";

        var lines = server.Factory.Logs.Entries.Where(e => e.Level == LogLevel.Information && e.Message.Contains(expected, StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Matches(@"first token \d+\.\d ms, total \d+\.\d ms\.$", line.Message);
    }
}
