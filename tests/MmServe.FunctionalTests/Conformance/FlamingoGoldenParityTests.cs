using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>One server process with tiny-flamingo (gated cross-attention) and mmserve-tiny (token injection).</summary>
public sealed class FlamingoServerFixture() : ServerFixture(FlamingoGolden.WithMmServeTiny());

/// <summary>
/// Over HTTP, tiny-flamingo reproduces its golden cases (PyTorch greedy ids) token for token: alone, all in flight at
/// once, and in flight together with mmserve-tiny's golden cases on the same server, whose tokens must not change
/// either. Its multi-image cases ask about the last of two or three images, so a wrong per-image mask changes them.
/// </summary>
public sealed class FlamingoGoldenParityTests(FlamingoServerFixture server) : IClassFixture<FlamingoServerFixture>
{
    public static TheoryData<string> CaseIds => [.. FlamingoGolden.Cases.Select(c => c.Id)];

    [Fact]
    public void TheGoldenCases_IncludeMultiImagePromptsAndTextOnlyOnes()
    {
        Assert.True(FlamingoGolden.Cases.Count >= 30, $"{FlamingoGolden.Cases.Count} cases");
        Assert.Contains(FlamingoGolden.Cases, c => FlamingoGolden.Images(c) >= 2);
        Assert.Contains(FlamingoGolden.Cases, c => FlamingoGolden.Images(c) == 0);
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task GoldenCase_Alone_MatchesReferenceTokens(string id)
    {
        var golden = FlamingoGolden.Get(id);
        using var response = await Chat.PostAsync(server.Client, Request(golden));
        await GoldenParityTestsBase.AssertMatchesAsync(golden, response);
    }

    [Fact]
    public async Task GoldenCases_AllInFlightAtOnce_WithMmServeTinyCases_MatchReferenceTokens()
    {
        var cases = FlamingoGolden.Cases.Select(c => (Golden: c, Request: Request(c)))
            .Concat(GoldenCases.TextAndImage.Select(c => (Golden: c, Request: c.ToRequest())))
            .ToList();
        var responses = await Task.WhenAll(cases.Select(c => Chat.PostAsync(server.Client, c.Request)));
        try
        {
            for (int i = 0; i < cases.Count; i++)
            {
                await GoldenParityTestsBase.AssertMatchesAsync(cases[i].Golden, responses[i]);
            }
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    /// <summary>
    /// The per-image masking, end to end: in Flamingo's few-shot prompt "&lt;image&gt; caption &lt;image&gt;" the answer
    /// is the caption of the image the answer positions see, the most recent one. Swapping in another case's last image
    /// takes that case's answer; swapping in another first image changes nothing.
    /// </summary>
    [Fact]
    public async Task TheAnswerFollowsTheMostRecentImage()
    {
        var fewShot = FlamingoGolden.Cases.Where(c => c.Id.StartsWith("multi_image_fewshot_", StringComparison.Ordinal)).ToList();
        Assert.True(fewShot.Count >= 2);
        var (a, b) = (fewShot[0], fewShot.First(c => c.CompletionText != fewShot[0].CompletionText));

        Assert.Equal(b.CompletionText, await AnswerAsync(WithImage(a, b, last: true)));
        Assert.Equal(a.CompletionText, await AnswerAsync(WithImage(a, b, last: false)));
    }

    /// <summary><paramref name="target"/>'s request with its first or last image taken from <paramref name="donor"/>.</summary>
    private static JsonObject WithImage(GoldenCase target, GoldenCase donor, bool last)
    {
        static List<JsonNode> Images(JsonObject request) =>
            [.. request["messages"]!.AsArray().SelectMany(m => m!["content"]!.AsArray()).Where(p => p!["type"]!.GetValue<string>() == "image_url").Select(p => p!)];

        var request = Request(target);
        var mine = Images(request);
        var theirs = Images(Request(donor));
        (last ? mine[^1] : mine[0])["image_url"]!["url"] = (last ? theirs[^1] : theirs[0])["image_url"]!["url"]!.GetValue<string>();
        return request;
    }

    private async Task<string?> AnswerAsync(JsonObject request)
    {
        using var response = await Chat.PostAsync(server.Client, request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
    }

    [Fact]
    public async Task MoreImagesThanTheModelTakes_IsA400WithAnOpenAiError()
    {
        var golden = FlamingoGolden.Cases.First(c => FlamingoGolden.Images(c) >= 1);
        var request = Request(golden);
        var content = request["messages"]!.AsArray().Last()!["content"]!.AsArray();
        var image = content.First(p => p!["type"]!.GetValue<string>() == "image_url")!;
        for (int i = 0; i < MmServeFactory.MaxImages; i++)
        {
            content.Insert(0, image.DeepClone());
        }

        using var response = await Chat.PostAsync(server.Client, request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(body);
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("image", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheModelCard_SaysImagesIn()
    {
        using var card = JsonDocument.Parse(await server.Client.GetStringAsync($"v1/models/{FlamingoGolden.Model}"));
        var inputs = card.RootElement.GetProperty("capabilities").GetProperty("input_modalities").EnumerateArray().Select(e => e.GetString());
        Assert.Contains("image", inputs);
    }

    private static JsonObject Request(GoldenCase golden)
    {
        var request = golden.ToRequest();
        request["model"] = FlamingoGolden.Model;
        return request;
    }
}
