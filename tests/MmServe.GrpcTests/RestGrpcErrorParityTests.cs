using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using RestChat = MmServe.TestSupport.Server.Chat;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// The same invalid requests through REST and through gRPC, against one server: both must refuse with the same
/// error code, naming the same field (each API spells fields its own way: sampling sits under "sampling." and a
/// media part under ".media" on gRPC), with the matching status on each side. One rule set stands behind both.
/// The server has no ffmpeg (so video and flac are unavailable) and takes at most 2 images per request.
/// </summary>
public sealed class RestGrpcErrorParityTests() : GrpcServer(new MmServeFactory(new Dictionary<string, string?>
    {
        ["Media:FfmpegPath"] = "/nonexistent/ffmpeg",
        ["Media:FfprobePath"] = "/nonexistent/ffprobe",
        ["Limits:MaxImagesPerRequest"] = "2",
    }))
{
    private const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
    private static readonly string LongText = string.Join(' ', Enumerable.Repeat("one two three four five", 80));

    /// <param name="Rest">Changes the REST body (a valid one-message chat).</param>
    /// <param name="Grpc">Changes the gRPC request (the same chat).</param>
    private sealed record Case(
        Action<JsonObject> Rest, Action<ChatRequest> Grpc, string Code, string RestParam, string GrpcParam, HttpStatusCode Http = HttpStatusCode.BadRequest, StatusCode Rpc = StatusCode.InvalidArgument);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Sampling bounds: every one the engine enforces, on each side of its range.
        ["temperature below 0"] = Sampling("temperature", -0.1, s => s.Temperature = -0.1f),
        ["temperature above 2"] = Sampling("temperature", 2.5, s => s.Temperature = 2.5f),
        ["top_p 0"] = Sampling("top_p", 0, s => s.TopP = 0),
        ["top_p above 1"] = Sampling("top_p", 1.5, s => s.TopP = 1.5f),
        ["top_p negative"] = Sampling("top_p", -0.5, s => s.TopP = -0.5f),
        ["top_k below -1"] = Sampling("top_k", -2, s => s.TopK = -2),
        ["presence_penalty below -2"] = Sampling("presence_penalty", -2.5, s => s.PresencePenalty = -2.5f),
        ["presence_penalty above 2"] = Sampling("presence_penalty", 2.5, s => s.PresencePenalty = 2.5f),
        ["frequency_penalty below -2"] = Sampling("frequency_penalty", -3, s => s.FrequencyPenalty = -3),
        ["frequency_penalty above 2"] = Sampling("frequency_penalty", 3, s => s.FrequencyPenalty = 3),
        ["max_tokens 0"] = Sampling("max_tokens", 0, s => s.MaxTokens = 0),
        ["max_tokens negative"] = Sampling("max_tokens", -5, s => s.MaxTokens = -5),
        ["five stop strings"] = new(
            b => b["stop"] = new JsonArray("a", "b", "c", "d", "e"), r => r.Sampling.Stop.AddRange(["a", "b", "c", "d", "e"]), "invalid_value", "stop", "sampling.stop"),
        ["empty stop string"] = new(b => b["stop"] = "", r => r.Sampling.Stop.Add(""), "invalid_value", "stop", "sampling.stop"),
        ["top_logprobs above 20"] = new(
            b => { b["logprobs"] = true; b["top_logprobs"] = 21; }, r => { r.Logprobs = true; r.TopLogprobs = 21; }, "invalid_value", "top_logprobs", "top_logprobs"),
        ["top_logprobs negative"] = new(
            b => { b["logprobs"] = true; b["top_logprobs"] = -1; }, r => { r.Logprobs = true; r.TopLogprobs = -1; }, "invalid_value", "top_logprobs", "top_logprobs"),
        ["top_logprobs without logprobs"] = new(b => b["top_logprobs"] = 2, r => r.TopLogprobs = 2, "invalid_value", "top_logprobs", "top_logprobs"),

        // The model.
        ["no model"] = new(b => b.Remove("model"), r => r.Model = "", "missing_required_parameter", "model", "model"),
        ["unknown model"] = new(b => b["model"] = "gpt-4o", r => r.Model = "gpt-4o", "model_not_found", "model", "model", HttpStatusCode.NotFound, StatusCode.NotFound),

        // Messages and roles.
        ["no messages"] = new(b => b["messages"] = new JsonArray(), r => r.Messages.Clear(), "invalid_value", "messages", "messages"),
        ["message without a role"] = new(
            b => Message(b).Remove("role"), r => r.Messages[0].Role = Role.Unspecified, "missing_required_parameter", "messages[0].role", "messages[0].role"),
        ["user message without content"] = new(
            b => Message(b).Remove("content"), r => r.Messages[0].Content.Clear(), "missing_required_parameter", "messages[0].content", "messages[0].content"),
        ["image in an assistant message"] = new(
            b => { Message(b)["role"] = "assistant"; Message(b)["content"] = new JsonArray(ImagePart()); },
            r => { r.Messages[0].Role = Role.Assistant; Parts(r, ImageMedia()); },
            "invalid_value", "messages[0].content[0]", "messages[0].content[0].media"),

        // Media: counts per modality, what this server can decode, remote URLs.
        ["three images, two allowed"] = new(
            b => Message(b)["content"] = new JsonArray(ImagePart(), ImagePart(), ImagePart()),
            r => Parts(r, ImageMedia(), ImageMedia(), ImageMedia()),
            "too_many_images", "messages", "messages"),
        ["five audio clips, four allowed"] = new(
            b => Message(b)["content"] = new JsonArray([.. Enumerable.Range(0, 5).Select(_ => AudioPart("wav"))]),
            r => Parts(r, [.. Enumerable.Range(0, 5).Select(_ => AudioMedia("audio/wav"))]),
            "too_many_audio_clips", "messages", "messages"),
        ["video without ffmpeg"] = new(
            b => Message(b)["content"] = new JsonArray(new JsonObject { ["type"] = "video_url", ["video_url"] = new JsonObject { ["url"] = "data:video/mp4;base64,AAAAGGZ0eXA=" } }),
            r => Parts(r, new ContentPart { Media = new MediaInput { MimeType = "video/mp4", Data = ByteString.CopyFrom([0, 0, 0, 24, 102, 116, 121, 112]) } }),
            "modality_unavailable", "messages[0].content[0]", "messages[0].content[0].media", Rpc: StatusCode.FailedPrecondition),
        ["flac without ffmpeg"] = new(
            b => Message(b)["content"] = new JsonArray(AudioPart("flac")),
            r => Parts(r, AudioMedia("audio/flac")),
            "audio_format_unavailable", "messages[0].content[0].input_audio.format", "messages[0].content[0].media.mime_type", Rpc: StatusCode.FailedPrecondition),
        ["remote image while remote media is off"] = new(
            b => Message(b)["content"] = new JsonArray(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "https://example.com/a.png" } }),
            r => Parts(r, new ContentPart { Media = new MediaInput { MimeType = "image/png", Url = "https://example.com/a.png" } }),
            "remote_media_disabled", "messages[0].content[0].image_url.url", "messages[0].content[0].media.url"),

        // Output modalities.
        ["video output"] = new(
            b => b["modalities"] = new JsonArray("text", "video"), r => r.OutputModalities.AddRange([Modality.Text, Modality.Video]),
            "unsupported_value", "modalities[1]", "output_modalities[1]"),

        // The context window: the prompt with its completion, and the prompt alone.
        ["prompt plus max_tokens beyond the context"] = new(
            b => { Message(b)["content"] = "Hello " + string.Join(' ', Enumerable.Repeat("one", 60)); b["max_tokens"] = 250; },
            r => { r.Messages[0].Content[0].Text = "Hello " + string.Join(' ', Enumerable.Repeat("one", 60)); r.Sampling.MaxTokens = 250; },
            "context_length_exceeded", "messages", "messages"),
        ["prompt alone beyond the context"] = new(
            b => Message(b)["content"] = LongText, r => r.Messages[0].Content[0].Text = LongText, "context_length_exceeded", "messages", "messages"),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Fact]
    public void TheTableCoversAtLeastThirtyCases() => Assert.True(Cases.Count >= 30, $"{Cases.Count} cases");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task InvalidRequest_IsRefusedAlikeOverRestAndGrpc(string name)
    {
        var @case = Cases[name];
        var body = RestChat.Request("Hello", 4);
        @case.Rest(body);
        var request = Requests.Text("Hello", 4);
        @case.Grpc(request);

        using var http = Factory.CreateHttpClient();
        using var response = await RestChat.PostAsync(http, body);
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(@case.Http == response.StatusCode, $"{name}: REST {(int)response.StatusCode} {json}");
        var error = JsonDocument.Parse(json).RootElement.GetProperty("error");
        var rpc = await Assert.ThrowsAsync<RpcException>(() => CallAsync(request));

        Assert.Equal((@case.Code, @case.RestParam), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        RpcAssert.AssertStatus(rpc, @case.Rpc, @case.Code, @case.GrpcParam);
    }

    [Fact]
    public async Task TopKMinusOne_MeansDisabledOnBoth()
    {
        var body = RestChat.Request("Hello", 2);
        body["top_k"] = -1;
        using var http = Factory.CreateHttpClient();
        using var response = await RestChat.PostAsync(http, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var request = Requests.Text("Hello", 2);
        request.Sampling.TopK = -1;
        var answer = await new ChatService.ChatServiceClient(Channel).ChatAsync(request);
        Assert.NotEmpty(answer.TokenIds);
    }

    private Task<ChatResponse> CallAsync(ChatRequest request) => Chat.ChatAsync(request).ResponseAsync;

    private static Case Sampling(string field, double value, Action<MmServe.Grpc.V1.SamplingParams> grpc) =>
        new(b => b[field] = value, r => grpc(r.Sampling), "invalid_value", field, field == "top_logprobs" ? field : $"sampling.{field}");

    private static JsonObject Message(JsonObject body) => body["messages"]![0]!.AsObject();

    private static JsonObject ImagePart() =>
        new() { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "data:image/png;base64," + Png } };

    private static JsonObject AudioPart(string format) =>
        new() { ["type"] = "input_audio", ["input_audio"] = new JsonObject { ["data"] = "UklGRiQAAABXQVZF", ["format"] = format } };

    private static ContentPart ImageMedia() => new() { Media = new MediaInput { MimeType = "image/png", Data = ByteString.FromBase64(Png) } };

    private static ContentPart AudioMedia(string mimeType) =>
        new() { Media = new MediaInput { MimeType = mimeType, Data = ByteString.FromBase64("UklGRiQAAABXQVZF") } };

    private static void Parts(ChatRequest request, params ContentPart[] parts)
    {
        request.Messages[0].Content.Clear();
        request.Messages[0].Content.AddRange(parts);
    }
}
