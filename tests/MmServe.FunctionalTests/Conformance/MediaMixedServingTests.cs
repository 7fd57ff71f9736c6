using System.Net.Http.Json;
using System.Text.Json;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// A media model and a decoder-only text model served by one process: every golden case of both, all in flight at
/// once, gives transformers.js's prompt ids and greedy tokens. tiny-qwen2-vl (images, videos, M-RoPE) with tiny-qwen2
/// (1-D positions); tiny-ultravox (one or two audio clips per prompt) with tiny-llama3.
/// </summary>
public sealed class MediaMixedServingTests
{
    [FfmpegTheory]
    [InlineData("tiny-qwen2-vl", "video", "tiny-qwen2")]
    [InlineData("tiny-ultravox", "audio", "tiny-llama3")]
    public async Task Media_model_and_a_text_model_in_flight_together_both_equal_transformers_js(string mediaModel, string mediaType, string textModel)
    {
        var vision = ConformanceGolden.Load(mediaModel);
        var text = ConformanceGolden.Load(textModel);
        Assert.Contains(vision.Cases, c => c.Media.Any(m => m.Type == mediaType));
        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Model:Path"] = null,
            ["Models:0:Id"] = mediaModel,
            ["Models:0:Path"] = ConformanceGolden.ModelPath(mediaModel),
            ["Models:1:Id"] = textModel,
            ["Models:1:Path"] = ConformanceGolden.ModelPath(textModel),
            ["Limits:MaxImagesPerRequest"] = "4",
            ["Limits:MaxRequestBodyBytes"] = (8 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();

        var runs = vision.Cases.Select(c => (Golden: vision, Case: c, Model: mediaModel))
            .Concat(text.Cases.Where(c => !c.SpecialLookalike).Select(c => (Golden: text, Case: c, Model: textModel)))
            .ToList();
        var responses = await Task.WhenAll(runs.Select(r => CompleteAsync(client, r.Golden.Request(r.Case, r.Model))));

        var failures = new List<string>();
        for (int i = 0; i < runs.Count; i++)
        {
            var (_, c, model) = runs[i];
            var prompt = responses[i].GetProperty("prompt_token_ids").EnumerateArray().Select(e => e.GetInt32()).ToList();
            var output = responses[i].GetProperty("choices")[0].GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToList();
            if (!prompt.SequenceEqual(c.PromptIds) || !output.SequenceEqual(c.OutputIds))
            {
                failures.Add($"{model}/{c.Id}: prompt {(prompt.SequenceEqual(c.PromptIds) ? "ok" : "differs")}, output [{string.Join(",", output)}], expected [{string.Join(",", c.OutputIds)}]");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static async Task<JsonElement> CompleteAsync(HttpClient client, System.Text.Json.Nodes.JsonObject request)
    {
        using var response = await client.PostAsJsonAsync("v1/chat/completions", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
