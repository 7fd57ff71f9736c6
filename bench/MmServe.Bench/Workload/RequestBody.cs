using System.Text.Json;
using MmServe.Bench.Cli;

namespace MmServe.Bench.Workload;

/// <summary>Writes the streaming chat-completion body, as vLLM's openai-chat backend sends it.</summary>
internal static class RequestBody
{
    public static byte[] Build(BenchOptions options, string text, string? imageUrl)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", options.Model);
            w.WriteStartArray("messages");
            w.WriteStartObject();
            w.WriteString("role", "user");
            if (imageUrl is null)
            {
                w.WriteString("content", text);
            }
            else
            {
                w.WriteStartArray("content");
                w.WriteStartObject();
                w.WriteString("type", "image_url");
                w.WriteStartObject("image_url");
                w.WriteString("url", imageUrl);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteString("text", text);
                w.WriteEndObject();
                w.WriteEndArray();
            }

            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteNumber("max_completion_tokens", options.MaxTokens);
            w.WriteNumber("temperature", options.Temperature);
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true); // the token counts come from this final chunk
            w.WriteEndObject();
            if (options.IgnoreEos)
            {
                w.WriteBoolean("ignore_eos", true);
            }

            if (options.ReturnTokenIds)
            {
                w.WriteBoolean("return_token_ids", true);
            }

            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
