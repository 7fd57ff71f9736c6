using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// Request fields left unset take the sampling defaults of the model folder (Model:GenerationConfig "auto", the
/// default), and OpenAI's with "openai". One server serves tiny-qwen2 twice (generation_config.json: temperature 0.7,
/// top_p 0.8, top_k 20) and genai-tiny (genai_config.json search: do_sample false). Seeded sampling makes the tokens a
/// function of the parameters, so equal tokens mean equal parameters.
/// </summary>
public sealed class ModelSamplingDefaultsTests
{
    private const string Auto = "qwen-auto";
    private const string OpenAi = "qwen-openai";
    private const string GenAi = "genai-tiny";

    [Fact]
    public async Task Unset_fields_take_the_folders_defaults_and_openais_when_configured()
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Model:Path"] = null,
            ["Models:0:Path"] = ConformanceGolden.ModelPath("tiny-qwen2"),
            ["Models:0:Id"] = Auto,
            ["Models:1:Path"] = ConformanceGolden.ModelPath("tiny-qwen2"),
            ["Models:1:Id"] = OpenAi,
            ["Models:1:GenerationConfig"] = "openai",
            ["Models:2:Path"] = Path.Combine(TestPaths.RepoRoot, "models", "conformance", "genai-tiny"),
            ["Models:2:Id"] = GenAi,
        });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        Assert.Contains(factory.Logs.Entries, e => e.Message.Contains($"Model {Auto}: request fields left unset take the model's sampling defaults: temperature 0.7, top_p 0.8, top_k 20", StringComparison.Ordinal));

        var prompts = ConformanceGolden.Load("tiny-qwen2").Cases.Take(8).Select(c => c.Messages).ToList();
        int differ = 0;
        for (int i = 0; i < prompts.Count; i++)
        {
            var unset = await TokensAsync(client, Auto, prompts[i], seed: i, new());
            var spelledOut = await TokensAsync(client, Auto, prompts[i], seed: i, new() { ["temperature"] = 0.7, ["top_p"] = 0.8, ["top_k"] = 20 });
            Assert.Equal(spelledOut, unset);

            var openAiUnset = await TokensAsync(client, OpenAi, prompts[i], seed: i, new());
            var openAiSpelledOut = await TokensAsync(client, Auto, prompts[i], seed: i, new() { ["temperature"] = 1.0, ["top_p"] = 1.0, ["top_k"] = -1 });
            Assert.Equal(openAiSpelledOut, openAiUnset);
            differ += unset.SequenceEqual(openAiUnset) ? 0 : 1;
        }

        // Otherwise the defaults could be ignored and every comparison above still hold.
        Assert.True(differ > 0, "the folder's defaults changed none of the sampled completions");

        foreach (var c in JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "genai", "cases.json")))!["cases"]!.AsArray().Take(6))
        {
            var messages = c!["messages"]!.AsArray();
            Assert.Equal(await TokensAsync(client, GenAi, messages, seed: 7, new() { ["temperature"] = 0 }), await TokensAsync(client, GenAi, messages, seed: 7, new()));
        }
    }

    private static async Task<List<int>> TokensAsync(HttpClient client, string model, JsonArray messages, int seed, JsonObject sampling)
    {
        var request = new JsonObject
        {
            ["model"] = model,
            ["messages"] = messages.DeepClone(),
            ["max_tokens"] = 16,
            ["seed"] = seed,
            ["return_token_ids"] = true,
        };
        foreach (var (name, value) in sampling)
        {
            request[name] = value?.DeepClone();
        }

        using var response = await client.PostAsJsonAsync("v1/chat/completions", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{model}: {(int)response.StatusCode} {body}");
        return [.. JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32())];
    }
}
