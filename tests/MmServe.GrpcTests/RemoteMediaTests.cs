using Grpc.Core;
using Grpc.Net.Client;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// MediaInput.url follows the REST API's remote-media policy: with remote media on and 127.0.0.2 allowed as an
/// internal network, an image fetched by URL gives the same answer as its bytes sent inline; loopback 127.0.0.1
/// (allowed as a host but not as a network) is refused before any connection.
/// </summary>
public sealed class RemoteMediaTests() : GrpcServer(new MmServeFactory(new Dictionary<string, string?>
    {
        ["Media:Remote:Enabled"] = "true",
        ["Media:Remote:AllowHttp"] = "true",
        ["Media:Remote:TimeoutSeconds"] = "5",
        ["Media:Remote:MaxRetries"] = "0",
        ["Media:Remote:AllowedDomains:0"] = "127.0.0.1",
        ["Media:Remote:AllowedDomains:1"] = "127.0.0.2",
        ["Media:Remote:AllowedNetworks:0"] = "127.0.0.2/32",
    }))
{
    private readonly OneFileHttpServer _images = new(ImageCaptionBytes());

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _images.Dispose();
    }

    [Fact]
    public async Task ImageByUrl_InAnAllowedNetwork_AnswersLikeTheInlineBytes()
    {
        var golden = GoldenCases.ImageCaption;
        var request = GrpcGolden.ToRequest(golden);
        var media = request.Messages[0].Content.Single(p => p.PartCase == ContentPart.PartOneofCase.Media).Media;
        media.Url = $"http://127.0.0.2:{_images.Port}/image.png";

        var response = await new ChatService.ChatServiceClient(Channel).ChatAsync(request);
        Assert.Equal(1, _images.Connections);
        Assert.Equal(golden.CompletionTokenIds, response.TokenIds);
        Assert.Equal(golden.CompletionText, response.Text);
    }

    [Fact]
    public async Task ImageByUrl_OnLoopback_IsRefusedWithoutConnecting()
    {
        var request = Requests.WithParts("What is this?", new ContentPart
        {
            Media = new MediaInput { MimeType = "image/png", Url = $"http://127.0.0.1:{_images.Port}/image.png" },
        });
        await RpcAssert.ChatFailsAsync(
            new ChatService.ChatServiceClient(Channel), request, StatusCode.InvalidArgument, "remote_media_forbidden", "messages[0].content[0].media.url");
        Assert.Equal(0, _images.Connections);
    }

    /// <summary>The image of the first image-captioning golden case, read from the bundle.</summary>
    private static byte[] ImageCaptionBytes()
    {
        var request = GrpcGolden.ToRequest(GoldenCases.ImageCaption);
        return request.Messages[0].Content.Single(p => p.PartCase == ContentPart.PartOneofCase.Media).Media.Data.ToByteArray();
    }
}
