using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MmServe.FunctionalTests.StructuredOutputs;

/// <summary>
/// The done-when figure of structured outputs: at temperature 1 (a tiny random-ish model's worst case: it would
/// write strings forever), every one of 210 outputs per model, all in flight at once, parses and validates against
/// its schema with an independent validator, and ends with "stop" (closed by the grammar, not cut by max_tokens).
/// </summary>
public sealed class StructuredOutputSamplingTests
{
    private const int RequestsPerSchema = 70;

    public static TheoryData<string> Models() => ["mmserve-tiny", "tiny-qwen2", "tiny-llama3"];

    [Theory]
    [MemberData(nameof(Models))]
    public async Task SampledAtTemperatureOne_AllOutputsValidateAgainstTheirSchemas(string model)
    {
        await using var factory = model == Chat.Model
            ? new MmServeFactory()
            : new MmServeFactory(new Dictionary<string, string?> { ["Model:Path"] = ConformanceGolden.ModelPath(model) });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        client.Timeout = TimeSpan.FromMinutes(5);

        var requests = TestSchemas.All.SelectMany(schema => Enumerable.Range(0, RequestsPerSchema).Select(i => (schema, i))).ToList();
        var outputs = await Task.WhenAll(requests.Select(r => CompleteAsync(client, model, r.schema, r.i)));

        var failures = new List<string>();
        for (int i = 0; i < requests.Count; i++)
        {
            var (content, finish) = outputs[i];
            if (finish != "stop")
            {
                failures.Add($"finish_reason {finish}: {content}");
            }

            if (SchemaValidation.Check(requests[i].schema, content) is { } problem)
            {
                failures.Add(problem);
            }
        }

        Assert.True(requests.Count >= 200);
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests.Count} outputs failed:\n{string.Join("\n", failures.Take(10))}");
        // Sampling still chooses: the outputs are not one forced string per schema.
        Assert.True(outputs.Select(o => o.Content).Distinct().Count() > requests.Count / 2);
    }

    private static async Task<(string Content, string? Finish)> CompleteAsync(HttpClient client, string model, string schema, int seed)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = $"Describe item {seed} as JSON." }),
            ["temperature"] = 1,
            ["seed"] = seed,
            ["max_tokens"] = 160,
            ["response_format"] = new JsonObject
            {
                ["type"] = "json_schema",
                ["json_schema"] = new JsonObject { ["name"] = "item", ["strict"] = true, ["schema"] = JsonNode.Parse(schema) },
            },
        };
        using var response = await client.PostAsJsonAsync(Chat.Route, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        var choice = JsonDocument.Parse(text).RootElement.GetProperty("choices")[0];
        return (choice.GetProperty("message").GetProperty("content").GetString()!, choice.GetProperty("finish_reason").GetString());
    }
}
