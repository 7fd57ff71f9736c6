using System.Net;
using System.Text.Json;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// Two models in one process ("Models"): each listed with its capabilities, each answering under its own id with its
/// own engine (here the same bundle twice, so both must reproduce the golden tokens), and an unknown id still 404.
/// </summary>
public sealed class MultiModelTests : IAsyncLifetime
{
    private readonly MmServeFactory _factory = new(new Dictionary<string, string?>
    {
        ["Model:Path"] = null,
        ["Models:0:Id"] = "tiny-a",
        ["Models:0:Path"] = TestPaths.Bundle,
        ["Models:1:Id"] = "tiny-b",
        ["Models:1:Path"] = TestPaths.Bundle,
        ["Models:1:Workers:0:Device"] = "cpu",
        ["Models:1:Workers:0:IntraOpThreads"] = "1",
    });

    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        await _factory.StartAndWaitReadyAsync();
        _client = _factory.CreateHttpClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task Models_ListsEveryServedModelWithItsCapabilities()
    {
        using var doc = JsonDocument.Parse(await _client.GetStringAsync("v1/models"));
        var data = doc.RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(["tiny-a", "tiny-b"], data.Select(m => m.GetProperty("id").GetString()));
        Assert.All(data, m => Assert.Contains("image", m.GetProperty("capabilities").GetProperty("input_modalities").EnumerateArray().Select(e => e.GetString())));

        using var one = await _client.GetAsync("v1/models/tiny-b");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
    }

    [Theory]
    [InlineData("tiny-a")]
    [InlineData("tiny-b")]
    public async Task EachModel_ReproducesTheGoldenTokensUnderItsOwnId(string model)
    {
        var cases = GoldenCases.WithoutVideo.Take(4).ToList();
        foreach (var golden in cases)
        {
            var request = golden.ToRequest();
            request["model"] = model;
            using var response = await Chat.PostAsync(_client, request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{model} {golden.Id}: {body}");
            using var doc = JsonDocument.Parse(body);
            Assert.Equal(model, doc.RootElement.GetProperty("model").GetString());
            Assert.Equal(golden.CompletionTokenIds, Chat.Ints(doc.RootElement.GetProperty("choices")[0].GetProperty("token_ids")));
        }
    }

    [Fact]
    public async Task BothModelsAtOnce_EachAnswersItsOwnRequests()
    {
        var golden = GoldenCases.WithoutVideo[0];
        var requests = Enumerable.Range(0, 8).Select(i =>
        {
            var request = golden.ToRequest();
            request["model"] = i % 2 == 0 ? "tiny-a" : "tiny-b";
            return Chat.PostAsync(_client, request);
        });
        var responses = await Task.WhenAll(requests);
        for (int i = 0; i < responses.Length; i++)
        {
            using var doc = JsonDocument.Parse(await responses[i].Content.ReadAsStringAsync());
            Assert.Equal(i % 2 == 0 ? "tiny-a" : "tiny-b", doc.RootElement.GetProperty("model").GetString());
            Assert.Equal(golden.CompletionTokenIds, Chat.Ints(doc.RootElement.GetProperty("choices")[0].GetProperty("token_ids")));
            responses[i].Dispose();
        }
    }

    [Fact]
    public async Task UnknownModel_Is404()
    {
        // mmserve-tiny is the manifest's id, but here the models are served as tiny-a and tiny-b only.
        var body = Chat.Request("Hello");
        body["model"] = "mmserve-tiny";
        using var response = await Chat.PostAsync(_client, body);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.NotFound, "model", "model_not_found");
    }
}

/// <summary>A "Models" list that cannot be served fails the start naming the key.</summary>
public sealed class MultiModelStartupTests
{
    [Theory]
    [InlineData("Model:Path", "models/mmserve-tiny", "not both")]
    [InlineData("Models:1:Id", "same", "Models:1:Id 'same' is already used")]
    [InlineData("Models:1:Path", "/no/such/bundle", "Models:1:Path")]
    [InlineData("Models:1:Workers:0:Device", "tpu", "Models:1:Workers:0:Device")]
    public async Task BadModelsList_FailsStartNamingTheKey(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Model:Path"] = null,
            ["Models:0:Id"] = "same",
            ["Models:0:Path"] = TestPaths.Bundle,
            ["Models:1:Id"] = "other",
            ["Models:1:Path"] = TestPaths.Bundle,
            [key] = value,
        };
        await using var factory = new MmServeFactory(settings);
        var error = Assert.ThrowsAny<Exception>(factory.StartServer);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }
}
