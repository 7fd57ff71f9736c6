using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// generation_config.json's no_repeat_ngram_size (the real Florence-2 exports set 3): a copy of tiny-florence2 whose
/// generation config sets it gives, for every golden case in flight at once, what transformers.js generates with it
/// (goldens/florence2/tiny-florence2.no-repeat-N.json, made by generate-florence2.mjs --no-repeat-ngram N). With 1
/// every token already in the decoder ids is banned, so each case's answer differs from plain greedy (one near-tie
/// case may go the other way, see below); 3 is the real setting (the tiny model's answers repeat no 3-gram, so there
/// it must change nothing).
/// </summary>
public sealed class Florence2NoRepeatNgramTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mmserve-florence2-no-repeat-").FullName;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Every_case_equals_transformers_js_with_the_same_no_repeat_ngram_size(int n)
    {
        CopyModel(n);
        var golden = JsonNode.Parse(File.ReadAllText(Path.Combine(ConformanceGolden.Root, "goldens", "florence2", $"{Florence2Golden.Model}.no-repeat-{n}.json")))!;
        Assert.Equal(n, golden["no_repeat_ngram_size"]!.GetValue<int>());
        var expected = golden["cases"]!.AsArray().ToDictionary(c => c!["id"]!.GetValue<string>(), c => Chat.Ints(JsonDocument.Parse(c!["output_ids"]!.ToJsonString()).RootElement));
        var cases = Florence2Golden.Cases();
        if (n == 1)
        {
            Assert.All(cases, c => Assert.False(c.OutputIds.SequenceEqual(expected[c.Id]), $"{c.Id}: n=1 should change the answer"));
        }

        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Florence2Models:0:Id"] = Florence2Golden.Model,
            ["Florence2Models:0:Path"] = _folder,
        });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        var responses = await Task.WhenAll(cases.Select(c =>
        {
            var body = Chat.WithImages(c.Text, "data:image/png;base64," + Convert.ToBase64String(c.ReadImage()));
            body["model"] = Florence2Golden.Model;
            body["max_tokens"] = Florence2Golden.MaxNewTokens;
            body["return_token_ids"] = true;
            return Chat.PostAsync(client, body);
        }));

        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            using var response = responses[i];
            var root = await Chat.ReadJsonAsync(response);
            var ids = Chat.Ints(root.GetProperty("choices")[0].GetProperty("token_ids"));
            if (!ids.SequenceEqual(expected[cases[i].Id]))
            {
                failures.Add($"{cases[i].Id}: [{string.Join(",", ids)}] != oracle [{string.Join(",", expected[cases[i].Id])}]");
            }
        }

        // With n = 1 the tiny model is driven far from what it was trained on (every earlier token banned), where two
        // candidates can score nearly alike: f21 (OCR of the 192 px blue circle) picks between ids 82 and 327 at its
        // 7th token, and that pick goes the other way between transformers.js and this server. One such case is
        // tolerated there; with the real setting (3) every case must be identical.
        Assert.True(failures.Count <= (n == 1 ? 1 : 0), string.Join("\n", failures));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void CopyModel(int n)
    {
        foreach (var file in Directory.EnumerateFiles(Florence2Golden.ModelFolder, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_folder, Path.GetRelativePath(Florence2Golden.ModelFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var config = Path.Combine(_folder, "generation_config.json");
        var generation = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        generation["no_repeat_ngram_size"] = n;
        File.WriteAllText(config, generation.ToJsonString());
    }
}
