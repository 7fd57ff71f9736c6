using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// The four architectures of "Serve the models users already have (II)" on one server with a decoder-only text model:
/// every golden case of tiny-qwen2-vl (images, videos, M-RoPE), tiny-ultravox (audio clips), tiny-whisper
/// (transcriptions) and tiny-florence2 (task prompts), and tiny-qwen2's text cases, all in flight at once, each gives
/// transformers.js's tokens. Decoder-only requests share batches per model; the encoder-decoder models run their own
/// engines next to them; none may change another's tokens.
/// </summary>
public sealed class AllArchitecturesInFlightTests
{
    [FfmpegFact]
    public async Task Every_golden_of_the_four_architectures_and_a_text_model_in_flight_at_once_equals_transformers_js()
    {
        string[] chatModels = ["tiny-qwen2-vl", "tiny-ultravox", "tiny-qwen2"];
        var goldens = chatModels.ToDictionary(m => m, ConformanceGolden.Load);
        var settings = new Dictionary<string, string?>
        {
            ["Model:Path"] = null,
            ["SpeechModels:0:Id"] = WhisperGolden.Model,
            ["SpeechModels:0:Path"] = ConformanceGolden.ModelPath(WhisperGolden.Model),
            ["Florence2Models:0:Id"] = Florence2Golden.Model,
            ["Florence2Models:0:Path"] = Florence2Golden.ModelFolder,
            ["Limits:MaxImagesPerRequest"] = "4",
            ["Limits:MaxRequestBodyBytes"] = (8 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        for (int i = 0; i < chatModels.Length; i++)
        {
            settings[$"Models:{i}:Id"] = chatModels[i];
            settings[$"Models:{i}:Path"] = ConformanceGolden.ModelPath(chatModels[i]);
        }

        await using var factory = new MmServeFactory(settings);
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        client.Timeout = TimeSpan.FromMinutes(10);

        var checks = new List<Task<string?>>();
        foreach (var (model, golden) in goldens)
        {
            checks.AddRange(golden.Cases.Where(c => !c.SpecialLookalike).Select(c => ChatAsync(client, model, golden.Request(c, model), c.PromptIds, c.OutputIds, c.Id)));
        }

        checks.AddRange(WhisperGolden.Cases().Select(c => TranscribeAsync(client, c)));
        checks.AddRange(Florence2Golden.Cases().Select(c => ChatAsync(client, Florence2Golden.Model, Florence2Request(c), c.PromptIds, c.OutputIds, c.Id)));

        var failures = (await Task.WhenAll(checks)).OfType<string>().ToList();
        Assert.True(checks.Count >= 100, $"only {checks.Count} requests");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static JsonObject Florence2Request(Florence2GoldenCase c)
    {
        var body = Chat.WithImages(c.Text, "data:image/png;base64," + Convert.ToBase64String(c.ReadImage()));
        body["model"] = Florence2Golden.Model;
        body["max_tokens"] = Florence2Golden.MaxNewTokens;
        body["return_token_ids"] = true;
        return body;
    }

    /// <summary>Null when the response has the golden prompt and output ids, else what differs.</summary>
    private static async Task<string?> ChatAsync(HttpClient client, string model, JsonObject request, IReadOnlyList<int> promptIds, IReadOnlyList<int> outputIds, string id)
    {
        using var response = await Chat.PostAsync(client, request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            return $"{model}/{id}: {(int)response.StatusCode} {body}";
        }

        var root = JsonDocument.Parse(body).RootElement;
        var prompt = Chat.Ints(root.GetProperty("prompt_token_ids"));
        var output = Chat.Ints(root.GetProperty("choices")[0].GetProperty("token_ids"));
        return prompt.SequenceEqual(promptIds) && output.SequenceEqual(outputIds)
            ? null
            : $"{model}/{id}: prompt {(prompt.SequenceEqual(promptIds) ? "ok" : "differs")}, output [{string.Join(",", output)}], expected [{string.Join(",", outputIds)}]";
    }

    private static async Task<string?> TranscribeAsync(HttpClient client, WhisperGoldenCase c)
    {
        using var response = await client.PostAsync(c.Route, c.Form(WhisperGolden.Model, "verbose_json"));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            return $"{WhisperGolden.Model}/{c.Id}: {(int)response.StatusCode} {body}";
        }

        var segment = JsonDocument.Parse(body).RootElement.GetProperty("segments")[0];
        var ids = Chat.Ints(segment.GetProperty("tokens"));
        return ids.SequenceEqual(c.OutputIds) ? null : $"{WhisperGolden.Model}/{c.Id}: [{string.Join(",", ids)}] != [{string.Join(",", c.OutputIds)}]";
    }
}
