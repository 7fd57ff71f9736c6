using Grpc.Core;
using Grpc.Net.Client;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// A server without ffmpeg (pointed at a path that does not exist) cannot decode video or flac/ogg/... audio. That
/// is the server's setup, not a bad request: FAILED_PRECONDITION, and ModelService says what is missing and why.
/// </summary>
public sealed class WithoutFfmpegTests() : GrpcServer(new MmServeFactory(new Dictionary<string, string?>
    {
        ["Media:FfmpegPath"] = "/nonexistent/ffmpeg",
        ["Media:FfprobePath"] = "/nonexistent/ffprobe",
    }))
{
    [Fact]
    public async Task Video_IsFailedPrecondition()
    {
        var request = Requests.WithParts("What is happening in the video?", GrpcGolden.Media("video/mp4", [0, 0, 0, 24, 102, 116, 121, 112]));
        var e = await RpcAssert.ChatFailsAsync(
            new ChatService.ChatServiceClient(Channel), request, StatusCode.FailedPrecondition, GrpcRequestCodes.ModalityUnavailable, "messages[0].content[0].media");
        Assert.Contains("ffmpeg", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlacAudio_IsFailedPrecondition()
    {
        var request = Requests.WithParts("What do you hear?", GrpcGolden.Media("audio/flac", "fLaC"u8.ToArray()));
        await RpcAssert.ChatFailsAsync(
            new ChatService.ChatServiceClient(Channel), request, StatusCode.FailedPrecondition, GrpcRequestCodes.AudioFormatUnavailable, "messages[0].content[0].media.mime_type");
    }

    [Fact]
    public async Task GetModel_SaysWhyVideoIsUnavailable()
    {
        var model = await new ModelService.ModelServiceClient(Channel).GetModelAsync(new GetModelRequest { Id = MmServe.TestSupport.Server.Chat.Model });
        var video = Assert.Single(model.Capabilities.UnavailableInputs);
        Assert.Equal(Modality.Video, video.Modality);
        Assert.Contains("ffmpeg", video.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Modality.Video, model.Capabilities.InputModalities);
        Assert.DoesNotContain("video/mp4", model.Capabilities.AcceptedMimeTypes);
        Assert.DoesNotContain("audio/flac", model.Capabilities.AcceptedMimeTypes);
        Assert.Contains("audio/wav", model.Capabilities.AcceptedMimeTypes);
    }
}

/// <summary>The FAILED_PRECONDITION codes of docs/grpc.md, as a client sees them in the mmserve-error-code trailer.</summary>
public static class GrpcRequestCodes
{
    public const string ModalityUnavailable = "modality_unavailable";
    public const string AudioFormatUnavailable = "audio_format_unavailable";
}
