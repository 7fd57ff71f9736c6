using System.Buffers;
using System.Text.Json;

namespace MmServe.Gateway.Routing;

/// <summary>
/// Reads the routing keys of a REST request body (already held in memory, bounded by Forwarding:MaxRequestBodyBytes)
/// in one forward pass of a <see cref="Utf8JsonReader"/>, without building a document: the top-level "model", every
/// medium of "messages" (image_url, video_url, audio_url, input_audio) and the conversation prefix. A body that is not
/// JSON (multipart transcription uploads) or does not parse yields no keys: the worker answers it as usual.
/// </summary>
internal static class RestRequestInspector
{
    public static RouteKeys Inspect(ReadOnlySpan<byte> body, string? contentType)
    {
        if (contentType is null || !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return RouteKeys.None;
        }

        try
        {
            return InspectJson(body);
        }
        catch (JsonException)
        {
            return RouteKeys.None;
        }
    }

    private static RouteKeys InspectJson(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return RouteKeys.None;
        }

        string? model = null;
        var media = new List<AffinityKey>();
        AffinityKey? conversation = null;
        bool continuation = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    model = reader.GetString();
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("messages"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    ReadMessages(ref reader, json, media, ref conversation, ref continuation);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new RouteKeys(model, media, conversation, continuation);
    }

    /// <summary>The conversation key covers the raw bytes from the first message to the end of the first user message.</summary>
    private static void ReadMessages(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, List<AffinityKey> media, ref AffinityKey? conversation, ref bool continuation)
    {
        long first = -1;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            if (first < 0)
            {
                first = reader.TokenStartIndex;
            }

            string? role = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("role"u8))
                {
                    reader.Read();
                    role = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("content"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        ReadParts(ref reader, media);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (role == "user" && conversation is null)
            {
                conversation = AffinityKey.Prefix(json[(int)first..(int)reader.BytesConsumed]);
            }

            continuation |= role == "assistant";
        }
    }

    private static void ReadParts(ref Utf8JsonReader reader, List<AffinityKey> media)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isUrl = reader.ValueTextEquals("image_url"u8) || reader.ValueTextEquals("video_url"u8) || reader.ValueTextEquals("audio_url"u8);
                bool isAudio = !isUrl && reader.ValueTextEquals("input_audio"u8);
                reader.Read();
                if (isUrl && reader.TokenType == JsonTokenType.String)
                {
                    media.Add(WithValue(ref reader, MediaHash.OfUrl));
                }
                else if ((isUrl || isAudio) && reader.TokenType == JsonTokenType.StartObject)
                {
                    var field = isUrl ? "url"u8 : "data"u8;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        bool match = reader.ValueTextEquals(field);
                        reader.Read();
                        if (match && reader.TokenType == JsonTokenType.String)
                        {
                            media.Add(WithValue(ref reader, isUrl ? MediaHash.OfUrl : MediaHash.OfBase64));
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }
    }

    private delegate AffinityKey KeyOf(ReadOnlySpan<byte> value);

    /// <summary>The string token's unescaped UTF-8 bytes, without a copy unless the JSON escaped something.</summary>
    private static AffinityKey WithValue(ref Utf8JsonReader reader, KeyOf keyOf)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return keyOf(reader.ValueSpan);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length);
        try
        {
            int length = reader.CopyString(buffer);
            return keyOf(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
