using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using MmServe.Grpc.V1;

namespace MmServe.Gateway.Routing;

/// <summary>
/// Reads the routing keys of a mmserve.v1.ChatService call: the body is one length-prefixed gRPC message (a
/// ChatRequest) held in memory; a compressed or malformed message yields no keys (the worker answers it as usual).
/// Media sent as raw bytes get the same key as the same file in a REST data: URL.
/// </summary>
internal static class GrpcRequestInspector
{
    public const string ChatServicePrefix = "/mmserve.v1.ChatService/";

    public static RouteKeys Inspect(ReadOnlySpan<byte> body)
    {
        if (body.Length < 5 || body[0] != 0)
        {
            return RouteKeys.None;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(body[1..5]);
        if (length > body.Length - 5)
        {
            return RouteKeys.None;
        }

        ChatRequest request;
        try
        {
            request = ChatRequest.Parser.ParseFrom(body.Slice(5, (int)length));
        }
        catch (InvalidProtocolBufferException)
        {
            return RouteKeys.None;
        }

        var media = new List<AffinityKey>();
        AffinityKey? conversation = null;
        using var prefix = new MemoryStream();
        foreach (var message in request.Messages)
        {
            foreach (var part in message.Content)
            {
                if (part.Media is { } medium)
                {
                    media.Add(medium.SourceCase == MediaInput.SourceOneofCase.Url
                        ? MediaHash.OfUrl(Encoding.UTF8.GetBytes(medium.Url))
                        : AffinityKey.Media(medium.Data.Span));
                }
            }

            if (conversation is null)
            {
                message.WriteTo(prefix);
                if (message.Role == Role.User)
                {
                    conversation = AffinityKey.Prefix(prefix.GetBuffer().AsSpan(0, (int)prefix.Length));
                }
            }
        }

        bool continuation = request.Messages.Any(m => m.Role == Role.Assistant);
        return new RouteKeys(string.IsNullOrEmpty(request.Model) ? null : request.Model, media, conversation, continuation);
    }
}
