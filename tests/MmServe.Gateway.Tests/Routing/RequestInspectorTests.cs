using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using MmServe.Gateway.Routing;
using MmServe.Grpc.V1;

namespace MmServe.Gateway.Tests.Routing;

/// <summary>What routing reads from REST and gRPC bodies: the model, the media's content hashes and the conversation prefix.</summary>
public sealed class RequestInspectorTests
{
    private static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5, 6, 7, 8, 9];
    private static readonly byte[] Wav = [(byte)'R', (byte)'I', (byte)'F', (byte)'F', 9, 8, 7];

    private static RouteKeys Rest(JsonNode body) => RestRequestInspector.Inspect(Encoding.UTF8.GetBytes(body.ToJsonString()), "application/json");

    private static JsonObject ImagePart(string url) => new() { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } };

    private static JsonObject User(params JsonNode[] parts) => new() { ["role"] = "user", ["content"] = new JsonArray(parts) };

    private static JsonObject Request(params JsonNode[] messages) => new() { ["model"] = "tiny", ["messages"] = new JsonArray(messages) };

    [Fact]
    public void Rest_ReadsTheModelAndOneKeyPerMedium()
    {
        var keys = Rest(Request(User(
            ImagePart("data:image/png;base64," + Convert.ToBase64String(Png)),
            new JsonObject { ["type"] = "text", ["text"] = "what is it?" },
            new JsonObject { ["type"] = "input_audio", ["input_audio"] = new JsonObject { ["data"] = Convert.ToBase64String(Wav), ["format"] = "wav" } },
            new JsonObject { ["type"] = "video_url", ["video_url"] = new JsonObject { ["url"] = "https://example.com/v.mp4" } })));

        Assert.Equal("tiny", keys.Model);
        Assert.Equal(new[] { AffinityKey.Media(Png), AffinityKey.Media(Wav), AffinityKey.Media("https://example.com/v.mp4"u8) }, keys.Media);
        Assert.False(keys.IsContinuation);
    }

    [Fact]
    public void Rest_SameBytes_SameKey_WhateverTheEncoding()
    {
        var plain = Rest(Request(User(ImagePart("data:image/png;base64," + Convert.ToBase64String(Png)))));

        // The same data URL with JSON escapes ("\/" and \u002B for '+'), and as a bare string instead of {"url": ...}.
        var escaped = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\""
            + ("data:image\\/png;base64," + Convert.ToBase64String(Png).Replace("+", "\\u002B", StringComparison.Ordinal)) + "\"}}]}]}";
        var bare = Rest(Request(User(new JsonObject { ["type"] = "image_url", ["image_url"] = "data:image/png;base64," + Convert.ToBase64String(Png) })));

        Assert.Equal(plain.Media, RestRequestInspector.Inspect(Encoding.UTF8.GetBytes(escaped), "application/json; charset=utf-8").Media);
        Assert.Equal(plain.Media, bare.Media);
        Assert.Equal(new[] { AffinityKey.Media(Png) }, plain.Media);
    }

    [Fact]
    public void Rest_ConversationPrefix_IsTheSameForEveryTurn_AndLaterTurnsAreContinuations()
    {
        var system = new JsonObject { ["role"] = "system", ["content"] = "Be brief." };
        var first = User(new JsonObject { ["type"] = "text", ["text"] = "Hello!" });
        var turn1 = Rest(Request(system.DeepClone(), first.DeepClone()));
        var turn2 = Rest(Request(system.DeepClone(), first.DeepClone(),
            new JsonObject { ["role"] = "assistant", ["content"] = "Hi." },
            User(new JsonObject { ["type"] = "text", ["text"] = "Count to three." })));
        var other = Rest(Request(system.DeepClone(), User(new JsonObject { ["type"] = "text", ["text"] = "Bye!" })));

        Assert.NotNull(turn1.Conversation);
        Assert.Equal(turn1.Conversation, turn2.Conversation);
        Assert.NotEqual(turn1.Conversation, other.Conversation);
        Assert.False(turn1.IsContinuation);
        Assert.True(turn2.IsContinuation);
        Assert.Contains(turn1.Conversation!.Value, turn2.Lookup);
        Assert.DoesNotContain(turn1.Conversation!.Value, turn1.Lookup);
    }

    [Theory]
    [InlineData("{\"model\": \"tiny\", \"messages\": [", "application/json")]
    [InlineData("[1, 2]", "application/json")]
    [InlineData("model=tiny", "application/x-www-form-urlencoded")]
    public void Rest_BodiesThatAreNotAChatRequest_GiveNoKeys(string body, string contentType)
    {
        Assert.Same(RouteKeys.None, RestRequestInspector.Inspect(Encoding.UTF8.GetBytes(body), contentType));
    }

    [Fact]
    public void Rest_ModelOfAnImagesRequest_IsRead()
    {
        Assert.Equal("tiny", Rest(new JsonObject { ["prompt"] = "a red circle", ["model"] = "tiny", ["n"] = 1 }).Model);
    }

    [Fact]
    public async Task Multipart_ReadsTheModelField_AndKeysTheFileByItsBytes()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Wav), "file", "clip.wav");
        form.Add(new StringContent("tiny"), "model");
        var body = await form.ReadAsByteArrayAsync();

        var keys = await MultipartRequestInspector.InspectAsync(new MemoryStream(body), form.Headers.ContentType!.ToString(), default);

        Assert.Equal("tiny", keys.Model);
        Assert.Equal(new[] { AffinityKey.Media(Wav) }, keys.Media);
        Assert.Same(RouteKeys.None, await MultipartRequestInspector.InspectAsync(new MemoryStream(body), "multipart/form-data", default));
    }

    [Fact]
    public void Grpc_RawBytesGiveTheSameKeyAsTheRestDataUrl()
    {
        var request = new ChatRequest { Model = "tiny" };
        var message = new Message { Role = Role.User };
        message.Content.Add(new ContentPart { Media = new MediaInput { MimeType = "image/png", Data = ByteString.CopyFrom(Png) } });
        message.Content.Add(new ContentPart { Media = new MediaInput { MimeType = "image/png", Url = "data:image/png;base64," + Convert.ToBase64String(Wav) } });
        message.Content.Add(new ContentPart { Text = "what is it?" });
        request.Messages.Add(message);

        var keys = GrpcRequestInspector.Inspect(Frame(request));

        Assert.Equal("tiny", keys.Model);
        Assert.Equal(new[] { AffinityKey.Media(Png), AffinityKey.Media(Wav) }, keys.Media);
        Assert.NotNull(keys.Conversation);
        Assert.False(keys.IsContinuation);
    }

    [Fact]
    public void Grpc_CompressedOrTruncatedMessages_GiveNoKeys()
    {
        var framed = Frame(new ChatRequest { Model = "tiny" });
        var compressed = (byte[])framed.Clone();
        compressed[0] = 1;

        Assert.Same(RouteKeys.None, GrpcRequestInspector.Inspect(compressed));
        Assert.Same(RouteKeys.None, GrpcRequestInspector.Inspect(framed.AsSpan(0, framed.Length - 1)));
        Assert.Same(RouteKeys.None, GrpcRequestInspector.Inspect([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]));
    }

    private static byte[] Frame(IMessage message)
    {
        var payload = message.ToByteArray();
        var framed = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(framed, 5);
        return framed;
    }
}
