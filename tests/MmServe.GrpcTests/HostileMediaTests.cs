using Google.Protobuf;
using Grpc.Core;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;
using MmServe.Serving;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MmServe.GrpcTests;

/// <summary>
/// The mislabelled-media rule over gRPC (chat.proto's MediaInput.mime_type): mime_type routes the item to a modality,
/// the bytes decide the format; bytes of another modality's format are INVALID_ARGUMENT media_type_mismatch. Also the
/// hostile battery's truncated JPEG and 16777216² WebP canvas, refused over gRPC as over REST.
/// </summary>
public sealed class HostileMediaTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>, IDisposable
{
    private readonly int _logMark = server.Factory.Logs.Entries.Count;

    public void Dispose() => Assert.Empty(server.Factory.Logs.ErrorsWithExceptions(_logMark));

    [Fact]
    public async Task JpegSentAsImagePng_IsDecodedAsTheJpegItIs()
    {
        using var image = new Image<Rgb24>(16, 16, new Rgb24(200, 30, 30));
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream);

        var reply = await server.Chat.ChatAsync(Requests.WithParts("What colour is it?", Media("image/png", stream.ToArray())));

        Assert.False(string.IsNullOrEmpty(reply.RequestId));
    }

    [Fact]
    public async Task WavSentAsImagePng_IsInvalidArgumentNamingDeclaredAndActual()
    {
        var request = Requests.WithParts("What is it?", Media("image/png", Convert.FromBase64String(SampleAudio.TwoBeepsWavBase64)));

        var e = await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "media_type_mismatch");

        Assert.Contains("'image/png'", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("a WAV file", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PngSentAsAudioWav_IsInvalidArgumentNamingDeclaredAndActual()
    {
        var request = Requests.WithParts("What do you hear?", Media("audio/wav", TestImages.SolidPng(8, 8, 255, 0, 0)));

        var e = await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "media_type_mismatch");

        Assert.Contains("'audio/wav'", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("a PNG image", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstHalfOfAJpeg_IsInvalidArgumentInvalidImage()
    {
        var request = Requests.WithParts("What is it?", Media("image/jpeg", HostileImages.FirstHalfOfAJpeg()));

        var e = await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "invalid_image");

        Assert.Contains("truncated", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebpWhoseCanvasIs16777216Squared_IsInvalidArgumentImageTooLarge()
    {
        var request = Requests.WithParts("What is it?", Media("image/webp", HostileImages.WebpWithAHugeCanvas()));

        var e = await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "image_too_large");

        Assert.Contains("16777216x16777216", e.Status.Detail, StringComparison.Ordinal);
    }

    private static ContentPart Media(string mimeType, byte[] bytes) =>
        new() { Media = new MediaInput { MimeType = mimeType, Data = ByteString.CopyFrom(bytes) } };
}
