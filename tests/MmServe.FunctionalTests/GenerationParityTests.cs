using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// Golden generation cases over HTTP: the completion's tokens equal PyTorch's greedy ones, and the generated
/// image (PNG) / audio (WAV or PCM16) equals the reference's output within max |Δ| ≤ 2/255 per pixel and an RMS
/// difference ≤ 1e-3 — alone, all at once, and streamed.
/// </summary>
public sealed class GenerationParityTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    public static TheoryData<string> CaseIds => [.. GoldenCases.Generation.Select(c => c.Id)];

    [Fact]
    public void GoldenCases_CoverBothOutputModalities() =>
        Assert.Equal(["audio", "image"], GoldenCases.Generation.Select(c => c.Generated!.Modality).Distinct().Order());

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task GenerationCase_Alone_MatchesReference(string id) =>
        await AssertCaseAsync(GoldenCases.Get(id), stream: false);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task GenerationCase_Streamed_MatchesReference(string id) =>
        await AssertCaseAsync(GoldenCases.Get(id), stream: true);

    [Fact]
    public async Task GenerationCases_AllInFlightAtOnce_WithTextCases_MatchReference()
    {
        var generation = GoldenCases.Generation.SelectMany(c => new[] { AssertCaseAsync(c, stream: false), AssertCaseAsync(c, stream: true) });
        var text = GoldenCases.TextAndImage.Take(16).Select(async c =>
        {
            using var response = await Chat.PostAsync(server.Client, c.ToRequest());
            var body = await Chat.ReadJsonAsync(response);
            Assert.Equal(c.CompletionTokenIds, Chat.Ints(body.GetProperty("choices")[0].GetProperty("token_ids")));
        });
        await Task.WhenAll(generation.Concat(text));
    }

    private async Task AssertCaseAsync(GoldenCase golden, bool stream)
    {
        var media = golden.Generated!;
        var request = golden.ToRequest();
        request["modalities"] = new JsonArray("text", media.Modality);
        if (media.Modality == "audio")
        {
            // Streams carry PCM16 clip by clip; the non-streamed answer is a WAV file.
            request["audio"] = new JsonObject { ["voice"] = "default", ["format"] = stream ? "pcm16" : "wav" };
        }

        var reference = media.Values();
        var because = $"{golden.Id} ({(stream ? "streamed" : "whole")})";
        if (!stream)
        {
            using var response = await Chat.PostAsync(server.Client, request);
            var body = await Chat.ReadJsonAsync(response);
            Assert.True(response.IsSuccessStatusCode, body.ToString());
            var choice = body.GetProperty("choices")[0];
            Assert.Equal(golden.CompletionTokenIds, Chat.Ints(choice.GetProperty("token_ids")));
            var message = choice.GetProperty("message");
            if (media.Modality == "image")
            {
                Assert.Equal(golden.CompletionText, message.GetProperty("content").GetString());
                var images = message.GetProperty("images");
                Assert.Equal(1, images.GetArrayLength());
                GeneratedMediaAssert.ImageMatches(DataUrlBytes(images[0]), reference, because);
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
                var audio = message.GetProperty("audio");
                Assert.Equal(golden.CompletionText, audio.GetProperty("transcript").GetString());
                Assert.StartsWith("audio_", audio.GetProperty("id").GetString());
                Assert.True(audio.GetProperty("expires_at").GetInt64() > body.GetProperty("created").GetInt64());
                GeneratedMediaAssert.WavMatches(Convert.FromBase64String(audio.GetProperty("data").GetString()!), reference, 16000, because);
            }

            return;
        }

        request["stream"] = true;
        using var streamed = await Chat.PostStreamingAsync(server.Client, request);
        var events = await Chat.ReadEventsAsync(streamed);
        Assert.Equal("[DONE]", events[^1]);
        var deltas = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0]).ToList();
        Assert.Equal(golden.CompletionTokenIds, deltas.Where(d => d.TryGetProperty("token_ids", out _)).SelectMany(d => Chat.Ints(d.GetProperty("token_ids"))));
        Assert.Equal("stop", deltas[^1].GetProperty("finish_reason").GetString());
        var delta = deltas.Select(d => d.GetProperty("delta")).ToList();
        if (media.Modality == "image")
        {
            Assert.Equal(golden.CompletionText, string.Concat(delta.Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString())));
            var images = delta.Where(d => d.TryGetProperty("images", out _)).SelectMany(d => d.GetProperty("images").EnumerateArray()).ToList();
            Assert.Single(images);
            GeneratedMediaAssert.ImageMatches(DataUrlBytes(images[0]), reference, because);
        }
        else
        {
            var audio = delta.Where(d => d.TryGetProperty("audio", out _)).Select(d => d.GetProperty("audio")).ToList();
            Assert.Single(audio.Select(a => a.GetProperty("id").GetString()).Distinct());
            Assert.Equal(golden.CompletionText, string.Concat(audio.Where(a => a.TryGetProperty("transcript", out _)).Select(a => a.GetProperty("transcript").GetString())));
            var pcm = audio.Where(a => a.TryGetProperty("data", out _)).SelectMany(a => Convert.FromBase64String(a.GetProperty("data").GetString()!)).ToArray();
            GeneratedMediaAssert.Pcm16Matches(pcm, reference, 16000, because);
            Assert.All(delta, d => Assert.False(d.TryGetProperty("content", out var c) && c.GetString()!.Length > 0, "audio replies stream their text as transcript"));
        }
    }

    private static byte[] DataUrlBytes(JsonElement image)
    {
        Assert.Equal("image_url", image.GetProperty("type").GetString());
        var url = image.GetProperty("image_url").GetProperty("url").GetString()!;
        const string prefix = "data:image/png;base64,";
        Assert.StartsWith(prefix, url);
        return Convert.FromBase64String(url[prefix.Length..]);
    }
}
