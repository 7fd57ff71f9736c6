using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using MmServe.Api.Errors;

namespace MmServe.Api.OpenAi;

/// <summary>
/// One pass over a request body before it is deserialized: the JSON must be well formed (at most 64 levels deep) and
/// every string and property name must be valid Unicode — raw bytes that are not UTF-8 (RFC 8259 §8.1) and \u escapes
/// naming half a surrogate pair are refused with the path of the offending value. Utf8JsonReader checks neither, and
/// System.Text.Json only notices when it transcodes the string, with an exception that is no client error.
/// </summary>
internal static class JsonBodyScanner
{
    public const int MaxDepth = 64;

    /// <returns>Null when the body may be deserialized, else the refusal.</returns>
    public static ApiError? Check(ReadOnlySpan<byte> json)
    {
        var path = new JsonPathTracker();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        if (!IsValidText(ref reader))
                        {
                            return ApiError.InvalidUtf8(path.Current(), propertyName: true);
                        }

                        path.Property(reader.GetString()!);
                        break;
                    case JsonTokenType.String:
                        path.Value();
                        if (!IsValidText(ref reader))
                        {
                            return ApiError.InvalidUtf8(path.Current(), propertyName: false);
                        }

                        path.EndOfValue();
                        break;
                    case JsonTokenType.StartObject:
                        path.Value();
                        path.EnterObject();
                        break;
                    case JsonTokenType.StartArray:
                        path.Value();
                        path.EnterArray();
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        path.Leave();
                        path.EndOfValue();
                        break;
                    default:
                        path.Value();
                        path.EndOfValue();
                        break;
                }
            }

            return reader.BytesConsumed > 0 ? null : ApiError.MalformedJson();
        }
        catch (JsonException)
        {
            return ApiError.MalformedJson();
        }
    }

    /// <summary>The current string token (value or name) unescapes to valid UTF-8.</summary>
    private static bool IsValidText(ref Utf8JsonReader reader)
    {
        // The body is one contiguous span, so ValueSpan holds the whole token.
        var raw = reader.ValueSpan;
        if (!reader.ValueIsEscaped)
        {
            return Utf8.IsValid(raw);
        }

        // Unescaping never lengthens the text; an unpaired surrogate escape makes CopyString throw.
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(raw.Length, 1));
        try
        {
            int written = reader.CopyString(buffer);
            return Utf8.IsValid(buffer.AsSpan(0, written));
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
