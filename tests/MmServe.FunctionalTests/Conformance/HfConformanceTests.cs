using System.Net.Http.Json;
using System.Text.Json;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// Every conformance model (tiny models in the exact layouts of Hugging Face ONNX exports) served over HTTP gives
/// transformers.js' greedy token ids for every golden case: the same prompt ids and the same new tokens, each case
/// alone and with all cases in flight at once (batched prefill and decode, shared encoder runs). Goldens named
/// "model.dtype" check that ONNX variant (Model:Dtype).
/// </summary>
public sealed class HfConformanceTests
{
    /// <summary>Every golden; those with videos or audio (tiny-qwen2-vl, tiny-ultravox) only where ffmpeg is (their mixed-serving tests skip loudly).</summary>
    public static TheoryData<string> Models() =>
        [.. ConformanceGolden.Models().Where(m => ToolRequirement.Ffmpeg.SkipReason is null || !ConformanceGolden.Load(m).Cases.Any(c => c.Media.Any(x => x.Type is "video" or "audio")))];

    /// <summary>
    /// The text conformance decoders again, in the GroupQueryAttention form ORT GenAI's model builder writes (one shared
    /// KV buffer per tensor, written in place): models/conformance/genai-&lt;model&gt;-gqa, made from the same weights by
    /// tools/conformance-models/genai/make_gqa_folder.py. Same weights and prompts, so the same goldens.
    /// </summary>
    public static TheoryData<string> GqaFolders() => ["tiny-llama3", "tiny-qwen2", "tiny-phi3"];

    [Theory]
    [MemberData(nameof(Models))]
    public Task Greedy_tokens_equal_transformers_js_alone_and_all_at_once(string model) =>
        AssertGoldenAsync(model, ConformanceGolden.ModelPath(model), model.Split('.')[0]);

    [Theory]
    [MemberData(nameof(GqaFolders))]
    public Task Group_query_attention_form_gives_the_same_goldens_alone_and_all_at_once(string model)
    {
        var folder = $"genai-{model}-gqa";
        return AssertGoldenAsync(model, Path.Combine(TestPaths.RepoRoot, "models", "conformance", folder), folder);
    }

    private static async Task AssertGoldenAsync(string model, string modelPath, string modelId)
    {
        var golden = ConformanceGolden.Load(model);
        Assert.True(golden.Cases.Count >= 20, $"{model}: {golden.Cases.Count} cases; the issue asks for at least 20");
        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Model:Path"] = modelPath,
            ["Model:Dtype"] = ConformanceGolden.Dtype(model),
            ["Limits:MaxImagesPerRequest"] = "4",
            ["Limits:MaxRequestBodyBytes"] = (8 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();

        var failures = new List<string>();
        foreach (var c in golden.Cases)
        {
            failures.AddRange(Compare(golden, c, await CompleteAsync(client, golden, c, modelId), "alone"));
        }

        // Dynamically quantized variants (q8: DynamicQuantizeLinear) compute one activation scale per tensor, so a row's
        // numbers depend on what it is batched with — in any batching server. Their goldens hold for requests alone;
        // all at once they must still all succeed.
        bool batchInvariant = ConformanceGolden.Dtype(model) == "fp32";
        var together = await Task.WhenAll(golden.Cases.Select(c => CompleteAsync(client, golden, c, modelId)));
        for (int i = 0; i < golden.Cases.Count && batchInvariant; i++)
        {
            failures.AddRange(Compare(golden, golden.Cases[i], together[i], "all at once"));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static async Task<JsonElement> CompleteAsync(HttpClient client, ConformanceGolden golden, ConformanceCase c, string model)
    {
        using var response = await client.PostAsJsonAsync("v1/chat/completions", golden.Request(c, model));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{model}/{c.Id}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static IEnumerable<string> Compare(ConformanceGolden golden, ConformanceCase c, JsonElement response, string how)
    {
        var prompt = response.GetProperty("prompt_token_ids").EnumerateArray().Select(e => e.GetInt32()).ToList();
        var choice = response.GetProperty("choices")[0];
        var output = choice.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToList();
        var finish = choice.GetProperty("finish_reason").GetString();

        // Phi-3-V's processor marks image positions with negated ids; the server keeps the image token's own id there.
        var expectedPrompt = c.PromptIds.Select(Math.Abs).ToList();
        if (c.SpecialLookalike)
        {
            // HF turns the special-token spelling typed by the user into a special token; this server must not.
            if (prompt.SequenceEqual(expectedPrompt))
            {
                yield return $"{golden.Model}/{c.Id} ({how}): user text spelling a special token was tokenized as the special token";
            }

            yield break;
        }

        if (!prompt.SequenceEqual(expectedPrompt))
        {
            yield return $"{golden.Model}/{c.Id} ({how}): prompt ids differ\n  expected [{string.Join(",", expectedPrompt)}]\n  actual   [{string.Join(",", prompt)}]";
            yield break;
        }

        // Both keep the EOS generation stopped on; without one, the run ended at max_new_tokens.
        var expected = c.OutputIds;
        var expectedFinish = expected.Count < golden.MaxNewTokens ? "stop" : finish is "stop" or "length" ? finish : "length";
        if (finish != expectedFinish)
        {
            yield return $"{golden.Model}/{c.Id} ({how}): finish_reason {finish}, expected {expectedFinish}";
        }

        if (!output.SequenceEqual(expected))
        {
            yield return $"{golden.Model}/{c.Id} ({how}): output ids differ (finish {finish})\n  expected [{string.Join(",", c.OutputIds)}]\n  actual   [{string.Join(",", output)}]";
        }
    }
}
