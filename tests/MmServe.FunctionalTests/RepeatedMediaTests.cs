using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Serving;
using MmServe.Serving.Media;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// Media seen before skip decoding and their encoder: the second request with the same image, clip or video
/// leaves the modality's encoder run count unchanged and still gets the golden answer.
/// </summary>
public sealed class RepeatedMediaTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    public static TheoryData<string, string> Cases => new()
    {
        { "image_url", ServedModel.ImageModality },
        { "input_audio", ServedModel.AudioModality },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task RepeatedMedia_SkipsTheEncoder(string partType, string modality)
    {
        await AssertSecondRequestSkipsEncoderAsync(partType, modality);
    }

    [FfmpegFact]
    public async Task RepeatedVideo_SkipsTheEncoder()
    {
        await AssertSecondRequestSkipsEncoderAsync("video_url", ServedModel.VideoModality);
    }

    private async Task AssertSecondRequestSkipsEncoderAsync(string partType, string modality)
    {
        // A case with exactly one item of the modality.
        var golden = GoldenCases.All.First(c => c.Messages.ToJsonString().Split($"\"type\":\"{partType}\"").Length == 2);
        var media = server.Factory.Services.GetRequiredService<MediaEmbedder>();
        var batcher = media.Modality(modality).Batcher;

        using (var first = await Chat.PostAsync(server.Client, golden.ToRequest()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var runsBefore = batcher.Stats.Items;
        var hitsBefore = media.Cache.Hits;
        using var second = await Chat.PostAsync(server.Client, golden.ToRequest());

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var body = await Chat.ReadJsonAsync(second);
        Assert.Equal(golden.CompletionText, body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(runsBefore, batcher.Stats.Items); // no item reached the encoder
        Assert.True(media.Cache.Hits > hitsBefore);
    }
}
