using Google.Protobuf;
using Grpc.Core;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// Request bytes the generated parser refuses — a proto3 string that is not UTF-8, truncated or random protobuf —
/// are the client's error: INVALID_ARGUMENT with the mmserve-error-code (and, for text, -param) trailers, never
/// UNKNOWN ("Exception was thrown by handler") and never an exception in the server's log.
/// </summary>
public sealed class InvalidProtobufTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>, IDisposable
{
    private const string ChatService = "mmserve.v1.ChatService";
    private static readonly byte[] NotUtf8 = [0x68, 0xFF, 0xFE, 0x69];

    private readonly int _logMark = server.Factory.Logs.Entries.Count;

    public void Dispose() => Assert.Empty(server.Factory.Logs.ErrorsWithExceptions(_logMark));

    public static TheoryData<string, MethodType> ChatMethods => new()
    {
        { "Chat", MethodType.Unary },
        { "StreamChat", MethodType.ServerStreaming },
    };

    [Theory]
    [MemberData(nameof(ChatMethods))]
    public async Task TextPartThatIsNotUtf8_IsInvalidArgumentNamingThePart(string method, MethodType type)
    {
        var request = ChatRequest(model: "mmserve-tiny"u8.ToArray(), text: NotUtf8);

        var e = await RawGrpc.CallAsync(server.Channel, ChatService, method, type, request);

        Assert.NotNull(e);
        RpcAssert.AssertStatus(e, StatusCode.InvalidArgument, "invalid_utf8", "messages[0].content[0].text");
        Assert.Contains("UTF-8", e.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ChatMethods))]
    public async Task ModelThatIsNotUtf8_IsInvalidArgumentNamingTheModel(string method, MethodType type)
    {
        var e = await RawGrpc.CallAsync(server.Channel, ChatService, method, type, ChatRequest(model: NotUtf8, text: "hi"u8.ToArray()));

        Assert.NotNull(e);
        RpcAssert.AssertStatus(e, StatusCode.InvalidArgument, "invalid_utf8", "model");
    }

    [Fact]
    public async Task StopStringThatIsNotUtf8_IsInvalidArgumentNamingIt()
    {
        // sampling (field 4) { stop (field 8): ["ok", <bad>] }
        var sampling = Message(w =>
        {
            w.WriteTag(8, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(ByteString.CopyFromUtf8("ok"));
            w.WriteTag(8, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(ByteString.CopyFrom(NotUtf8));
        });
        var request = ChatRequest(model: "mmserve-tiny"u8.ToArray(), text: "hi"u8.ToArray(), extra: w =>
        {
            w.WriteTag(4, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(ByteString.CopyFrom(sampling));
        });

        var e = await RawGrpc.CallAsync(server.Channel, ChatService, "Chat", MethodType.Unary, request);

        Assert.NotNull(e);
        RpcAssert.AssertStatus(e, StatusCode.InvalidArgument, "invalid_utf8", "sampling.stop[1]");
    }

    [Fact]
    public async Task GetModelWithAnIdThatIsNotUtf8_IsInvalidArgument()
    {
        var request = Message(w =>
        {
            w.WriteTag(1, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(ByteString.CopyFrom(NotUtf8));
        });

        var e = await RawGrpc.CallAsync(server.Channel, "mmserve.v1.ModelService", "GetModel", MethodType.Unary, request);

        Assert.NotNull(e);
        RpcAssert.AssertStatus(e, StatusCode.InvalidArgument, "invalid_utf8", "id");
    }

    [Fact]
    public async Task HealthCheckWithAServiceNameThatIsNotUtf8_IsInvalidArgument()
    {
        var request = Message(w =>
        {
            w.WriteTag(1, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(ByteString.CopyFrom(NotUtf8));
        });

        var e = await RawGrpc.CallAsync(server.Channel, "grpc.health.v1.Health", "Check", MethodType.Unary, request);

        Assert.NotNull(e);
        RpcAssert.AssertStatus(e, StatusCode.InvalidArgument, "invalid_utf8", "service");
    }

    public static TheoryData<string, byte[]> Unparseable => new()
    {
        { "a tag with field number 0", [0x00, 0x01] },
        { "a length past the end", [0x1A, 0x7F, 0x01] },
        { "a varint that never ends", [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },
        { "an end-group tag without its start", [0x1C] },
        { "a wire type that does not exist", [0x0F] },
    };

    [Theory]
    [MemberData(nameof(Unparseable))]
    public async Task BytesThatAreNotAChatRequest_AreInvalidArgument(string what, byte[] request)
    {
        foreach (var (method, type) in new[] { ("Chat", MethodType.Unary), ("StreamChat", MethodType.ServerStreaming) })
        {
            var e = await RawGrpc.CallAsync(server.Channel, ChatService, method, type, request);

            Assert.True(e is not null, $"{what}: {method} succeeded");
            RpcAssert.AssertStatus(e, StatusCode.InvalidArgument, "invalid_protobuf");
        }
    }

    [Fact]
    public async Task AfterUnparseableRequests_TheServerStillAnswers()
    {
        await RawGrpc.CallAsync(server.Channel, ChatService, "Chat", MethodType.Unary, [0xFF, 0xFF]);

        var response = await server.Chat.ChatAsync(Requests.Text("Hello!", 2));

        Assert.NotEmpty(response.TokenIds);
    }

    /// <summary>A ChatRequest written field by field: model (2), one user message (3) with one text part, max_tokens 2.</summary>
    private static byte[] ChatRequest(byte[] model, byte[] text, Action<CodedOutputStream>? extra = null)
    {
        var part = Message(w =>
        {
            w.WriteTag(1, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(ByteString.CopyFrom(text));
        });
        var message = Message(w =>
        {
            w.WriteTag(1, WireFormat.WireType.Varint);
            w.WriteEnum(2); // ROLE_USER
            w.WriteTag(2, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(ByteString.CopyFrom(part));
        });
        return Message(w =>
        {
            w.WriteTag(2, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(ByteString.CopyFrom(model));
            w.WriteTag(3, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(ByteString.CopyFrom(message));
            extra?.Invoke(w);
        });
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return stream.ToArray();
    }
}
