using System.Buffers;
using System.Text.Json;

namespace MmServe.Bench.Client;

/// <summary>
/// What the load client needs from one chat.completion.chunk, read in one forward pass of a
/// <see cref="Utf8JsonReader"/> over the event's bytes: no document, no strings, nothing allocated but an error's
/// message. The client shares the machine with the server it measures (two cores here), so every microsecond it
/// spends per token is taken from the server; a DOM parse of every chunk cost it half a core at 20k tokens/s.
/// </summary>
internal readonly record struct ChunkScan(bool HasContent, bool IsError, string? ErrorMessage, int? PromptTokens, int? CompletionTokens)
{
    /// <summary>
    /// Content means a non-empty choices[0].delta.content or a non-empty choices[0].token_ids; usage's counts when the
    /// chunk has a usage object; an "error" member at the root makes it an error chunk.
    /// </summary>
    public static ChunkScan Read(ReadOnlySequence<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a chunk is not a JSON object");
        }

        bool content = false, error = false;
        string? message = null;
        int? prompt = null, completion = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                content |= FirstChoiceHasContent(ref reader);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                ReadUsage(ref reader, ref prompt, ref completion);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                error = true;
                message = ReadErrorMessage(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new ChunkScan(content, error, message, prompt, completion);
    }

    /// <summary>Reader on the value of "choices"; leaves it on that value's last token.</summary>
    private static bool FirstChoiceHasContent(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }

        bool content = false;
        bool first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (first && reader.TokenType == JsonTokenType.StartObject)
            {
                content = ChoiceHasContent(ref reader);
            }
            else
            {
                reader.Skip();
            }

            first = false;
        }

        return content;
    }

    /// <summary>Reader on a choice's StartObject; leaves it on its EndObject.</summary>
    private static bool ChoiceHasContent(ref Utf8JsonReader reader)
    {
        bool content = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                content |= DeltaHasContent(ref reader);
            }
            else if (reader.ValueTextEquals("token_ids"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    // A copy of the reader looks one token ahead; the original then skips the whole array.
                    var ahead = reader;
                    ahead.Read();
                    content |= ahead.TokenType != JsonTokenType.EndArray;
                }

                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return content;
    }

    private static bool DeltaHasContent(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        bool content = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isContent = reader.ValueTextEquals("content"u8);
            reader.Read();
            if (isContent && reader.TokenType == JsonTokenType.String)
            {
                // An escaped string is never empty; an unescaped one is empty when it has no bytes.
                long length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
                content |= reader.ValueIsEscaped || length > 0;
            }
            else
            {
                reader.Skip();
            }
        }

        return content;
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref int? prompt, ref int? completion)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isPrompt = reader.ValueTextEquals("prompt_tokens"u8);
            bool isCompletion = !isPrompt && reader.ValueTextEquals("completion_tokens"u8);
            reader.Read();
            if (reader.TokenType == JsonTokenType.Number && isPrompt)
            {
                prompt = reader.GetInt32();
            }
            else if (reader.TokenType == JsonTokenType.Number && isCompletion)
            {
                completion = reader.GetInt32();
            }
            else
            {
                reader.Skip();
            }
        }
    }

    /// <summary>The error's message (a string error is its own message); reader left on the value's last token.</summary>
    private static string? ReadErrorMessage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? message = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isMessage = reader.ValueTextEquals("message"u8);
            reader.Read();
            if (isMessage && reader.TokenType == JsonTokenType.String)
            {
                message = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return message;
    }
}
