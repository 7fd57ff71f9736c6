using System.Globalization;
using System.Text.Unicode;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace MmServe.Api.Grpc.Binding;

/// <summary>
/// Finds the first proto3 <c>string</c> field whose bytes are not UTF-8 in an encoded message, by walking its wire format
/// with the message's descriptor, and names it the way the API's errors name fields ("messages[0].content[1].text").
/// Used only after the generated parser has refused the bytes, to tell the client which field was wrong.
/// </summary>
internal static class ProtoUtf8Locator
{
    private const int MaxDepth = 100;

    /// <returns>The field's path, or null when every string is UTF-8 (or the bytes are malformed before one is found).</returns>
    public static string? Find(MessageDescriptor descriptor, byte[] message)
    {
        try
        {
            return Find(descriptor, new CodedInputStream(message), 0);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static string? Find(MessageDescriptor descriptor, CodedInputStream input, int depth)
    {
        var seen = new Dictionary<int, int>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = descriptor.FindFieldByNumber(WireFormat.GetTagFieldNumber(tag));
            if (field is null
                || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited
                || field.FieldType is not (FieldType.String or FieldType.Message))
            {
                input.SkipLastField();
                continue;
            }

            int index = seen.TryGetValue(field.FieldNumber, out var count) ? count : 0;
            seen[field.FieldNumber] = index + 1;
            var name = field.IsRepeated ? string.Create(CultureInfo.InvariantCulture, $"{field.Name}[{index}]") : field.Name;
            var bytes = input.ReadBytes();
            if (field.FieldType == FieldType.String)
            {
                if (!Utf8.IsValid(bytes.Span))
                {
                    return name;
                }
            }
            else if (depth < MaxDepth && Find(field.MessageType, bytes.CreateCodedInput(), depth + 1) is { } inner)
            {
                return $"{name}.{inner}";
            }
        }

        return null;
    }
}
