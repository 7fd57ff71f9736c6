using System.Net.Http.Json;
using System.Text.Json;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// The README's two-model example: mmserve-tiny (an MmServe bundle) and tiny-llava (a Hugging Face export) in one
/// process, listed together, each answering its own golden cases while the other's requests are in flight.
/// </summary>
public sealed class BundleNextToHfExportTests
{
    [Fact]
    public async Task Both_formats_serve_their_goldens_side_by_side()
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Model:Path"] = null,
            ["Models:0:Path"] = TestPaths.Bundle,
            ["Models:1:Path"] = ConformanceGolden.ModelPath("tiny-llava"),
            ["Models:1:Dtype"] = "fp32",
        });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();

        using (var models = JsonDocument.Parse(await client.GetStringAsync("v1/models")))
        {
            var data = models.RootElement.GetProperty("data").EnumerateArray().ToList();
            Assert.Equal(["mmserve-tiny", "tiny-llava"], data.Select(m => m.GetProperty("id").GetString()));
            Assert.Contains("image", data[1].GetProperty("capabilities").GetProperty("input_modalities").EnumerateArray().Select(e => e.GetString()));
        }

        var llava = ConformanceGolden.Load("tiny-llava");
        var llavaCases = llava.Cases.Where(c => c.Images.Count > 0 && !c.SpecialLookalike).Take(4).ToList();
        var tinyCases = GoldenCases.WithoutVideo.Take(4).ToList();
        var llavaCalls = llavaCases.Select(c => client.PostAsJsonAsync("v1/chat/completions", llava.Request(c, "tiny-llava")));
        var tinyCalls = tinyCases.Select(g =>
        {
            var request = g.ToRequest();
            request["model"] = "mmserve-tiny";
            return Chat.PostAsync(client, request);
        });
        var responses = await Task.WhenAll(llavaCalls.Concat(tinyCalls));

        for (int i = 0; i < responses.Length; i++)
        {
            using var response = responses[i];
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            using var doc = JsonDocument.Parse(body);
            var ids = Chat.Ints(doc.RootElement.GetProperty("choices")[0].GetProperty("token_ids"));
            var expected = i < llavaCases.Count ? llavaCases[i].OutputIds : tinyCases[i - llavaCases.Count].CompletionTokenIds;
            Assert.Equal(expected, ids);
        }
    }
}
