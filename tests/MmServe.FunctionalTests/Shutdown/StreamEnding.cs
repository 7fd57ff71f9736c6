using System.Text.Json;
using System.Text.Json.Nodes;

namespace MmServe.FunctionalTests.Shutdown;

/// <summary>
/// How one SSE chat stream ended, read to its last byte: a finish chunk (its finish_reason) and [DONE], an error event,
/// or cut (the connection broke, or the body ended without [DONE]). Shutdown must never give the last.
/// </summary>
internal sealed record StreamEnding(string? FinishReason, string? ErrorCode, string? Cut, int ContentChunks)
{
    public bool IsProper => Cut is null && (FinishReason is not null || ErrorCode is not null);

    /// <summary>A long stream (ignore_eos) the drain tests can catch mid-way.</summary>
    public static JsonObject LongStreamRequest(int maxTokens)
    {
        var body = Chat.Request("Count to fifty.", maxTokens);
        body["stream"] = true;
        body["ignore_eos"] = true;
        return body;
    }

    /// <param name="firstContent">Completed when the first chunk with content has arrived.</param>
    public static async Task<StreamEnding> ReadAsync(HttpClient client, JsonObject body, TaskCompletionSource? firstContent = null)
    {
        string? finish = null, error = null;
        int content = 0;
        bool done = false;
        try
        {
            using var response = await Chat.PostStreamingAsync(client, body);
            if (!response.IsSuccessStatusCode)
            {
                return new StreamEnding(null, null, $"HTTP {(int)response.StatusCode}", 0);
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                var data = line["data: ".Length..];
                if (data == "[DONE]")
                {
                    done = true;
                    break;
                }

                using var json = JsonDocument.Parse(data);
                if (json.RootElement.TryGetProperty("error", out var e))
                {
                    error = e.GetProperty("code").GetString() ?? "null";
                    continue;
                }

                foreach (var choice in json.RootElement.GetProperty("choices").EnumerateArray())
                {
                    if (choice.GetProperty("delta").TryGetProperty("content", out var text) && text.GetString() is { Length: > 0 })
                    {
                        content++;
                        firstContent?.TrySetResult();
                    }

                    if (choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String)
                    {
                        finish = reason.GetString();
                    }
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return new StreamEnding(finish, error, $"{e.GetType().Name}: {e.Message}", content);
        }
        finally
        {
            firstContent?.TrySetResult(); // a stream that ended before any content must not hold the test up
        }

        // An error event ends the stream without [DONE]; a finish chunk is always followed by it.
        return error is not null || done ? new StreamEnding(finish, error, null, content) : new StreamEnding(finish, error, "no [DONE]", content);
    }
}
