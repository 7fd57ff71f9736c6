using Google.Protobuf;
using Grpc.Core;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// Bad input over gRPC gets the status the docs promise (docs/grpc.md), with the OpenAI-style code and the
/// offending proto field in the trailers, streamed and unary alike — and never a crash or a stack trace.
/// </summary>
public sealed class ErrorStatusTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>
{
    private static readonly byte[] Png = TestImages.SolidPng(8, 8, 255, 0, 0);

    [Fact]
    public async Task MissingModel_IsInvalidArgument()
    {
        var request = Requests.Text("Hello!");
        request.Model = "";
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "missing_required_parameter", "model");
    }

    [Fact]
    public async Task UnknownModel_IsNotFound()
    {
        var request = Requests.Text("Hello!");
        request.Model = "gpt-4o";
        var e = await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.NotFound, "model_not_found", "model");
        Assert.Contains("gpt-4o", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetModel_UnknownId_IsNotFound()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => server.Models.GetModelAsync(new GetModelRequest { Id = "nope" }).ResponseAsync);
        RpcAssert.AssertStatus(e, StatusCode.NotFound, "model_not_found", "id");
    }

    [Fact]
    public async Task OverlongRequestId_IsInvalidArgument()
    {
        var request = Requests.Text("Hello!");
        request.RequestId = new string('x', 129);
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "invalid_value", "request_id");
    }

    [Fact]
    public async Task NoMessages_IsInvalidArgument()
    {
        var request = Requests.Text("Hello!");
        request.Messages.Clear();
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "invalid_value", "messages");
    }

    [Fact]
    public async Task MissingRole_IsInvalidArgument()
    {
        var request = Requests.Text("Hello!");
        request.Messages[0].Role = Role.Unspecified;
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "missing_required_parameter", "messages[0].role");
    }

    [Fact]
    public async Task EmptyContentPart_IsInvalidArgument()
    {
        var request = Requests.WithParts("What is this?", new ContentPart());
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "missing_required_parameter", "messages[0].content[0]");
    }

    [Fact]
    public async Task MediaWithoutMimeType_IsInvalidArgument()
    {
        var request = Requests.WithParts("What is this?", GrpcGolden.Media("", Png));
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "missing_required_parameter", "messages[0].content[0].media.mime_type");
    }

    [Fact]
    public async Task MediaWithoutBytes_IsInvalidArgument()
    {
        var request = Requests.WithParts("What is this?", new ContentPart { Media = new MediaInput { MimeType = "image/png" } });
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "missing_required_parameter", "messages[0].content[0].media.data");
    }

    [Fact]
    public async Task UnknownMimeType_IsInvalidArgument()
    {
        var request = Requests.WithParts("What is this?", GrpcGolden.Media("application/pdf", Png));
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "unsupported_media_type", "messages[0].content[0].media.mime_type");
    }

    [Fact]
    public async Task UndecodableImageBytes_AreInvalidArgument()
    {
        var request = Requests.WithParts("What is this?", GrpcGolden.Media("image/png", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, param: "messages[0].content[0].media.data");
    }

    [Fact]
    public async Task UndecodableAudioBytes_AreInvalidArgument()
    {
        var request = Requests.WithParts("What do you hear?", GrpcGolden.Media("audio/wav", "RIFF\0\0\0\0WAVEjunk"u8.ToArray()));
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, param: "messages[0].content[0].media.data");
    }

    [Fact]
    public async Task ImageWithALyingHeader_IsInvalidArgument()
    {
        var request = Requests.WithParts("What is this?", GrpcGolden.Media("image/png", TestImages.LyingHeaderPng(100_000, 100_000)));
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "image_too_large", "messages[0].content[0].media.data");
    }

    [Fact]
    public async Task OversizedMessage_IsResourceExhausted()
    {
        // Past Limits:MaxRequestBodyBytes (the default for Grpc:MaxReceiveMessageBytes); refused before it is parsed.
        var request = Requests.WithParts("What is this?", GrpcGolden.Media("image/png", new byte[MmServeFactory.MaxBodyBytes + 1024]));
        var e = await Assert.ThrowsAsync<RpcException>(() => server.Chat.ChatAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        var streamed = await Assert.ThrowsAsync<RpcException>(() => StreamedChat.ReadAsync(server.Chat, request));
        Assert.Equal(StatusCode.ResourceExhausted, streamed.StatusCode);
    }

    [Fact]
    public async Task TooManyImages_IsInvalidArgument()
    {
        var parts = Enumerable.Range(0, MmServeFactory.MaxImages + 1).Select(_ => GrpcGolden.Media("image/png", Png)).ToArray();
        await RpcAssert.ChatFailsAsync(server.Chat, Requests.WithParts("What is this?", parts), StatusCode.InvalidArgument, "too_many_images", "messages");
    }

    [Fact]
    public async Task MediaInASystemMessage_IsInvalidArgument()
    {
        var request = Requests.WithParts("What is this?", GrpcGolden.Media("image/png", Png));
        request.Messages[0].Role = Role.System;
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "invalid_value", "messages[0].content[0].media");
    }

    [Fact]
    public async Task RemoteUrl_WhenRemoteMediaIsDisabled_IsInvalidArgument()
    {
        var request = Requests.WithParts("What is this?", new ContentPart { Media = new MediaInput { MimeType = "image/png", Url = "https://example.com/a.png" } });
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "remote_media_disabled", "messages[0].content[0].media.url");
    }

    [Fact]
    public async Task OutOfRangeTemperature_IsInvalidArgument()
    {
        var request = Requests.Text("Hello!");
        request.Sampling.Temperature = 3;
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "invalid_value", "sampling.temperature");
    }

    [Fact]
    public async Task TopLogprobsWithoutLogprobs_IsInvalidArgument()
    {
        var request = Requests.Text("Hello!");
        request.TopLogprobs = 3;
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "invalid_value", "top_logprobs");
    }

    [Fact]
    public async Task PromptPastTheContextWindow_IsInvalidArgument()
    {
        var request = Requests.Text(string.Join(' ', Enumerable.Repeat("one two three", 200)));
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "context_length_exceeded", "messages");
    }

    [Fact]
    public async Task OutputModalityTheModelCannotProduce_IsInvalidArgument()
    {
        var request = Requests.Text("Show me a video of a red circle.");
        request.OutputModalities.Add(Modality.Text);
        request.OutputModalities.Add(Modality.Video);
        var e = await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument, "unsupported_value", "output_modalities[1]");
        Assert.Contains("MODALITY_IMAGE", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusals_LeaveNoStackTracesInTheLog()
    {
        int before = server.Factory.Logs.Entries.Count;
        var request = Requests.WithParts("What is this?", GrpcGolden.Media("image/png", [0xFF, 0xD8, 0xFF]));
        await RpcAssert.ChatFailsAsync(server.Chat, request, StatusCode.InvalidArgument);
        Assert.Empty(server.Factory.Logs.ErrorsWithExceptions(before));
    }
}
