using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>mmserve-tiny, tiny-blip2 and tiny-fuyu on one server (the Models list).</summary>
public sealed class FamilyServerFixture() : ServerFixture(FamilyServing.ServerSettings());

/// <summary>
/// Families 1 and 2 of issue 19 over HTTP: every golden case of tiny-blip2 (an instruction-aware Q-Former: a fixed
/// run of query embeddings that depends on the question) and tiny-fuyu (encoder-free patches: a run of rows x
/// (cols + 1) positions with row-break tokens, by image size) gives PyTorch's greedy tokens, alone and with every case
/// of both families and mmserve-tiny's text and image cases in flight at once on one server.
/// </summary>
public sealed class FamilyGoldenParityTests(FamilyServerFixture server) : IClassFixture<FamilyServerFixture>
{
    public static TheoryData<string> Blip2CaseIds => [.. FamilyServing.Cases(FamilyBundles.Blip2).Select(c => c.Id)];

    public static TheoryData<string> FuyuCaseIds => [.. FamilyServing.Cases(FamilyBundles.Fuyu).Select(c => c.Id)];

    [Theory]
    [InlineData(FamilyBundles.Blip2)]
    [InlineData(FamilyBundles.Fuyu)]
    public void Family_HasAtLeastThirtyGoldenCases(string family)
    {
        Assert.True(FamilyServing.Cases(family).Count >= 30, $"{family}: {FamilyServing.Cases(family).Count} cases");
    }

    [Theory]
    [MemberData(nameof(Blip2CaseIds))]
    public async Task Blip2GoldenCase_Alone_MatchesPyTorch(string id)
    {
        Assert.Null(await ChatAsync(server.Client, FamilyBundles.Blip2, FamilyServing.Case(FamilyBundles.Blip2, id)));
    }

    [Theory]
    [MemberData(nameof(FuyuCaseIds))]
    public async Task FuyuGoldenCase_Alone_MatchesPyTorch(string id)
    {
        Assert.Null(await ChatAsync(server.Client, FamilyBundles.Fuyu, FamilyServing.Case(FamilyBundles.Fuyu, id)));
    }

    [Fact]
    public async Task BothFamiliesAndMmserveTiny_AllInFlightAtOnce_MatchTheirGoldens()
    {
        var checks = FamilyServing.Families.SelectMany(f => FamilyServing.Cases(f).Select(c => ChatAsync(server.Client, f, c)))
            .Concat(GoldenCases.TextAndImage.Select(c => ChatAsync(server.Client, Chat.Model, c)))
            .ToList();
        var failures = (await Task.WhenAll(checks)).OfType<string>().ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task FuyuPrompt_HasOneRowBreakAfterEveryPatchRow()
    {
        // rows x (cols + 1) positions from the first placeholder: cols patch positions, then the row-break token.
        int image = FamilyServing.AddedTokenId(FamilyBundles.Fuyu, "<|image|>");
        int rowBreak = FamilyServing.AddedTokenId(FamilyBundles.Fuyu, "<|newline|>");
        foreach (var golden in FamilyServing.Cases(FamilyBundles.Fuyu).Take(4))
        {
            using var response = await Chat.PostAsync(server.Client, FamilyServing.Request(golden, FamilyBundles.Fuyu));
            var prompt = Chat.Ints(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("prompt_token_ids"));
            var (rows, cols) = FamilyServing.FuyuGrid(golden.Id);
            int start = Array.IndexOf(prompt, image);
            var run = prompt.AsSpan(start, rows * (cols + 1)).ToArray();
            var expected = Enumerable.Range(0, rows).SelectMany(_ => Enumerable.Repeat(image, cols).Append(rowBreak)).ToArray();
            Assert.Equal(expected, run);
            Assert.Equal(rows * cols, prompt.Count(x => x == image));
        }
    }

    [Theory]
    [InlineData(8, 40)]
    [InlineData(40, 15)]
    [InlineData(97, 40)]
    [InlineData(40, 200)]
    public async Task FuyuImage_OutsideTheSizeLimits_Is400(int width, int height)
    {
        var body = Chat.WithImages("What colour is the shape?", TestImages.DataUrl(TestImages.SolidPng(width, height, 200, 40, 40)));
        body["model"] = FamilyBundles.Fuyu;
        using var response = await Chat.PostAsync(server.Client, body);
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, code: "image_size_out_of_range");
        Assert.Contains($"{width}x{height}", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Blip2_SameImage_DifferentQuestion_ReadsTheQuestion()
    {
        // The instruction reaches the Q-Former: the cached embeddings of one question must not answer another.
        var cases = FamilyServing.Cases(FamilyBundles.Blip2);
        var pair = cases.SelectMany(a => cases.Where(b => ImageOf(a) == ImageOf(b) && QuestionOf(a) != QuestionOf(b)).Select(b => (a, b))).FirstOrDefault();
        Assert.True(pair.a is not null, "no golden image asked two questions");
        Assert.Null(await ChatAsync(server.Client, FamilyBundles.Blip2, pair.a));
        Assert.Null(await ChatAsync(server.Client, FamilyBundles.Blip2, pair.b));
    }

    private static string ImageOf(GoldenCase c) => c.Messages.ToJsonString().Split("data:image/png;base64,")[1].Split('"')[0];

    private static string QuestionOf(GoldenCase c) =>
        string.Join("|", c.Messages.SelectMany(m => m!["content"]!.AsArray()).Where(p => p!["type"]!.GetValue<string>() == "text").Select(p => p!["text"]!.GetValue<string>()));

    /// <summary>Null when the response has the golden prompt ids, output ids, text and usage; else what differs.</summary>
    internal static async Task<string?> ChatAsync(HttpClient client, string model, GoldenCase golden)
    {
        using var response = await Chat.PostAsync(client, FamilyServing.Request(golden, model));
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return $"{model}/{golden.Id}: {(int)response.StatusCode} {body}";
        }

        var root = JsonDocument.Parse(body).RootElement;
        var choice = root.GetProperty("choices")[0];
        var prompt = Chat.Ints(root.GetProperty("prompt_token_ids"));
        var output = Chat.Ints(choice.GetProperty("token_ids"));
        var text = choice.GetProperty("message").GetProperty("content").GetString();
        return prompt.SequenceEqual(golden.PromptTokenIds) && output.SequenceEqual(golden.CompletionTokenIds) && text == golden.CompletionText
            && root.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() == golden.PromptTokenIds.Length
            ? null
            : $"{model}/{golden.Id}: prompt {(prompt.SequenceEqual(golden.PromptTokenIds) ? "same" : "differs")}, output [{string.Join(",", output)}] '{text}', expected [{string.Join(",", golden.CompletionTokenIds)}] '{golden.CompletionText}'";
    }
}
