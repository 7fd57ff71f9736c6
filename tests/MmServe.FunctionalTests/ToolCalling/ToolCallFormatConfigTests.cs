namespace MmServe.FunctionalTests.ToolCalling;

/// <summary>Model:ToolCallFormat picks the call format; a value the server cannot read stops the start naming the key.</summary>
public sealed class ToolCallFormatConfigTests
{
    [Fact]
    public async Task UnknownToolCallFormat_StopsTheStart_NamingTheSetting()
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?> { ["Model:ToolCallFormat"] = "xml" });

        var error = await Assert.ThrowsAnyAsync<Exception>(factory.StartAndWaitReadyAsync);

        Assert.Contains("Model:ToolCallFormat 'xml'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfiguredFormat_IsTheOneForcedCallsAreWrittenIn()
    {
        // mmserve-tiny would use Hermes; configured as Llama 3 JSON its forced calls are {"name", "parameters"} objects.
        await using var factory = new MmServeFactory(new Dictionary<string, string?> { ["Model:ToolCallFormat"] = "llama3_json" });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        var request = ToolRequests.Request(Chat.Model, "required", seed: 3, parallel: false);
        request["logprobs"] = true;

        var choice = await ToolRequests.CompleteAsync(client, request);

        ToolRequests.AssertValidCalls(choice);
        // The raw output, token by token as logprobs report it.
        var raw = string.Concat(choice.GetProperty("logprobs").GetProperty("content").EnumerateArray().Select(t => t.GetProperty("token").GetString()));
        Assert.StartsWith("{", raw, StringComparison.Ordinal);
        Assert.Contains("\"parameters\"", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("<tool_call>", raw, StringComparison.Ordinal);
    }
}
