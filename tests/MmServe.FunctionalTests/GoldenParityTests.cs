using System.Net;
using System.Text.Json;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// Over HTTP, greedy decoding reproduces the bundle's golden cases token for token (compared through the
/// return_token_ids extension): the prompt the server builds (chat template, media placeholders) and the tokens it
/// generates, alone and with every case in flight at once — text, images, audio (WAV) and video (MP4, via ffmpeg).
/// Run for both forms of the decoder: the concat form (<see cref="GoldenParityTests"/>) and the GroupQueryAttention
/// form with one shared KV buffer (<see cref="GqaDecoderGoldenParityTests"/>).
/// </summary>
public abstract class GoldenParityTestsBase(ServerFixture server)
{
    public static TheoryData<string> CaseIds => [.. GoldenCases.WithoutVideo.Select(c => c.Id)];

    public static TheoryData<string> VideoCaseIds => [.. GoldenCases.Video.Select(c => c.Id)];

    [Fact]
    public void GoldenCases_CoverEveryInputModality()
    {
        string[] types = ["image_url", "input_audio", "video_url"];
        foreach (var type in types)
        {
            Assert.Contains(GoldenCases.All, c => c.Messages.ToJsonString().Contains($"\"{type}\"", StringComparison.Ordinal));
        }

        Assert.Contains(GoldenCases.All, c => !types.Any(t => c.Messages.ToJsonString().Contains($"\"{t}\"", StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(CaseIds), MemberType = typeof(GoldenParityTestsBase))]
    public async Task GoldenCase_Alone_MatchesReferenceTokens(string id)
    {
        var golden = GoldenCases.Get(id);
        using var response = await Chat.PostAsync(server.Client, golden.ToRequest());
        await AssertMatchesAsync(golden, response);
    }

    [FfmpegTheory]
    [MemberData(nameof(VideoCaseIds), MemberType = typeof(GoldenParityTestsBase))]
    public async Task VideoGoldenCase_Alone_MatchesReferenceTokens(string id)
    {
        var golden = GoldenCases.Get(id);
        using var response = await Chat.PostAsync(server.Client, golden.ToRequest());
        await AssertMatchesAsync(golden, response);
    }

    [Fact]
    public async Task GoldenCases_AllInFlightAtOnce_MatchReferenceTokens()
    {
        await AllAtOnceAsync(GoldenCases.WithoutVideo);
    }

    [FfmpegFact]
    public async Task GoldenCases_IncludingVideo_AllInFlightAtOnce_MatchReferenceTokens()
    {
        await AllAtOnceAsync(GoldenCases.All);
    }

    private async Task AllAtOnceAsync(IReadOnlyList<GoldenCase> cases)
    {
        Assert.True(cases.Count >= 16, $"only {cases.Count} golden cases");
        var responses = await Task.WhenAll(cases.Select(c => Chat.PostAsync(server.Client, c.ToRequest())));
        try
        {
            for (int i = 0; i < cases.Count; i++)
            {
                await AssertMatchesAsync(cases[i], responses[i]);
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

    /// <summary>The response reproduces the case: prompt ids, completion ids and text, finish reason and usage.</summary>
    internal static async Task AssertMatchesAsync(GoldenCase golden, HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{golden.Id}: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var choice = root.GetProperty("choices")[0];
        Assert.Equal(golden.PromptTokenIds, Chat.Ints(root.GetProperty("prompt_token_ids")));
        Assert.True(
            golden.CompletionTokenIds.SequenceEqual(Chat.Ints(choice.GetProperty("token_ids"))),
            $"{golden.Id}: expected [{string.Join(",", golden.CompletionTokenIds)}] got {choice.GetProperty("token_ids")}");
        Assert.Equal(golden.CompletionText, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(golden.FinishReason, choice.GetProperty("finish_reason").GetString());
        var usage = root.GetProperty("usage");
        Assert.Equal(golden.PromptTokenIds.Length, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(golden.CompletionTokenIds.Length, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(golden.PromptTokenIds.Length + golden.CompletionTokenIds.Length, usage.GetProperty("total_tokens").GetInt32());
    }
}

/// <summary>The golden cases with the manifest's decoder (past and present concatenated).</summary>
public sealed class GoldenParityTests(ConcatServerFixture server) : GoldenParityTestsBase(server), IClassFixture<ConcatServerFixture>
{
    [Fact]
    public async Task TheModelCard_ReportsTheHostKvCache()
    {
        using var card = JsonDocument.Parse(await server.Client.GetStringAsync($"v1/models/{Chat.Model}"));
        Assert.Equal("host", card.RootElement.GetProperty("capabilities").GetProperty("workers")[0].GetProperty("kv_cache").GetString());
    }
}

/// <summary>The golden cases with the decoder variant "gqa": GroupQueryAttention writing one shared KV buffer in place.</summary>
public sealed class GqaDecoderGoldenParityTests(GqaServerFixture server) : GoldenParityTestsBase(server), IClassFixture<GqaServerFixture>
{
    [Fact]
    public async Task TheModelCard_ReportsTheSharedBuffer()
    {
        using var card = JsonDocument.Parse(await server.Client.GetStringAsync($"v1/models/{Chat.Model}"));
        var worker = card.RootElement.GetProperty("capabilities").GetProperty("workers")[0];
        Assert.Equal("host (shared buffer)", worker.GetProperty("kv_cache").GetString());
    }
}
