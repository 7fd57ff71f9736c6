using System.Net;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;
using MmServe.Serving;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MmServe.FunctionalTests;

/// <summary>
/// One rule for mislabelled media (docs/input-limits.md): the declared type only routes the item; its format is
/// sniffed from the bytes. A real format of the item's modality is decoded as what it is, whatever the label; bytes of
/// another modality's format are a 400 media_type_mismatch naming the declared and the real format.
/// </summary>
public sealed class MislabelledMediaTests(ServerFixture server) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly int _logMark = server.Factory.Logs.Entries.Count;

    public void Dispose() => Assert.Empty(server.Factory.Logs.ErrorsWithExceptions(_logMark));

    public static byte[] Jpeg()
    {
        using var image = new Image<Rgb24>(16, 16, new Rgb24(200, 30, 30));
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream);
        return stream.ToArray();
    }

    [Fact]
    public async Task JpegSentAsImagePng_IsDecodedAsTheJpegItIs()
    {
        var body = Chat.WithImages("What colour is it?", "data:image/png;base64," + Convert.ToBase64String(Jpeg()));

        using var response = await Chat.PostAsync(server.Client, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task WavSentAsImagePng_Is400NamingDeclaredAndActual()
    {
        var body = Chat.WithImages("What is it?", "data:image/png;base64," + SampleAudio.TwoBeepsWavBase64);

        using var response = await Chat.PostAsync(server.Client, body);

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].image_url.url", "media_type_mismatch");
        var message = error.GetProperty("message").GetString();
        Assert.Contains("'image/png'", message, StringComparison.Ordinal);
        Assert.Contains("a WAV file", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PngSentAsWavAudio_Is400NamingDeclaredAndActual()
    {
        var body = Chat.Request("x");
        body["messages"]![0]!["content"] = new JsonArray(
            new JsonObject { ["type"] = "input_audio", ["input_audio"] = new JsonObject { ["data"] = SampleImage.RedSquarePngBase64, ["format"] = "wav" } },
            new JsonObject { ["type"] = "text", ["text"] = "What do you hear?" });

        using var response = await Chat.PostAsync(server.Client, body);

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].input_audio.data", "media_type_mismatch");
        var message = error.GetProperty("message").GetString();
        Assert.Contains("format 'wav'", message, StringComparison.Ordinal);
        Assert.Contains("a PNG image", message, StringComparison.Ordinal);
    }

    [FfmpegFact]
    public async Task PngSentAsVideoMp4_Is400NamingDeclaredAndActual()
    {
        var body = Chat.Request("x");
        body["messages"]![0]!["content"] = new JsonArray(
            new JsonObject { ["type"] = "video_url", ["video_url"] = new JsonObject { ["url"] = "data:video/mp4;base64," + SampleImage.RedSquarePngBase64 } },
            new JsonObject { ["type"] = "text", ["text"] = "What happens?" });

        using var response = await Chat.PostAsync(server.Client, body);

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].video_url.url", "media_type_mismatch");
        Assert.Contains("'video/mp4'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
