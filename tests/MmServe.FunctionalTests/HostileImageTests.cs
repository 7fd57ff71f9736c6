using System.Net;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// The hostile battery's images over REST: a truncated JPEG (accepted before, the missing half decoded as grey) and a
/// WebP whose VP8X canvas claims 16777216² (accepted before: the decoder looked only at the 8x8 bitstream) are 400s.
/// </summary>
public sealed class HostileImageTests(ServerFixture server) : IClassFixture<ServerFixture>, IDisposable
{
    private const string ImageParam = "messages[0].content[0].image_url.url";

    private readonly int _logMark = server.Factory.Logs.Entries.Count;

    public void Dispose() => Assert.Empty(server.Factory.Logs.ErrorsWithExceptions(_logMark));

    [Fact]
    public async Task FirstHalfOfAJpeg_Is400InvalidImage()
    {
        var body = Chat.WithImages("What is it?", "data:image/jpeg;base64," + Convert.ToBase64String(HostileImages.FirstHalfOfAJpeg()));

        using var response = await Chat.PostAsync(server.Client, body);

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, ImageParam, "invalid_image");
        Assert.Contains("truncated", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebpWhoseCanvasIs16777216Squared_Is400BeforeDecoding()
    {
        var body = Chat.WithImages("What is it?", "data:image/webp;base64," + Convert.ToBase64String(HostileImages.WebpWithAHugeCanvas()));

        using var response = await Chat.PostAsync(server.Client, body);

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, ImageParam, "image_too_large");
        Assert.Contains("16777216x16777216", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WholeJpeg_IsStillAccepted()
    {
        var body = Chat.WithImages("What is it?", "data:image/jpeg;base64," + Convert.ToBase64String(HostileImages.Jpeg()));

        using var response = await Chat.PostAsync(server.Client, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
