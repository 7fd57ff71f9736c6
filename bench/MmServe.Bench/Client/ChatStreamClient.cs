using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using MmServe.Bench.Workload;

namespace MmServe.Bench.Client;

/// <summary>
/// Sends one streaming chat completion and times its server-sent events as vLLM's benchmark does, with one
/// deliberate difference: only chunks whose delta carries content count as tokens. MmServe (like OpenAI) opens
/// every stream with a role-only chunk that is sent before any token exists; counting it, as vLLM does, would make
/// TTFT measure the time to response headers instead of the time to the first token. With --return-token-ids,
/// chunks carrying token ids count too, so tokens that decode to no text are timed as well.
/// </summary>
internal sealed class ChatStreamClient(HttpClient http, Uri baseUrl)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly Uri _endpoint = new(baseUrl, "v1/chat/completions");

    public async Task<RequestResult> SendAsync(BenchRequest request, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Content = new ByteArrayContent(request.Body) { Headers = { ContentType = Json } },
        };
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                return Fail($"HTTP {(int)response.StatusCode}: {Shorten(body)}");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            using var reader = new StreamReader(stream);
            return await ReadEventsAsync(request, reader, start, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or IOException or TaskCanceledException or JsonException)
        {
            // A TaskCanceledException while our own token is not cancelled is HttpClient's per-request timeout.
            return Fail(e is TaskCanceledException ? "timed out" : $"{e.GetType().Name}: {e.Message}");
        }

        RequestResult Fail(string error) =>
            RequestResult.Failed(request.Index, request.HasImage, error, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private static async Task<RequestResult> ReadEventsAsync(BenchRequest request, StreamReader reader, long start, CancellationToken ct)
    {
        double ttft = 0;
        var itls = new List<double>();
        var lastContent = 0L;
        int? promptTokens = null, completionTokens = null;
        var contentChunks = 0;

        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            // SSE: blank lines end events, ':' lines are comments; everything we need is on "data:" lines.
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }

            var now = Stopwatch.GetTimestamp();
            var data = line.AsSpan(5).Trim();
            if (data.SequenceEqual("[DONE]"))
            {
                var latency = Stopwatch.GetElapsedTime(start, now).TotalSeconds;

                // A completion whose only token has no text (an immediate end-of-sequence) never sends content:
                // its first token is only known at the end, so TTFT is the whole latency rather than a fake 0.
                if (contentChunks == 0)
                {
                    ttft = latency;
                }

                // Without a usage chunk fall back to one token per content chunk (vLLM would re-tokenise the text).
                return new RequestResult(request.Index, request.HasImage, true, null, ttft, itls, latency,
                    promptTokens ?? 0, completionTokens ?? contentChunks);
            }

            using var doc = JsonDocument.Parse(data.ToString());
            var root = doc.RootElement;
            if (root.TryGetProperty("error", out var error))
            {
                var text = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) ? m.GetString() : error.ToString();
                return RequestResult.Failed(request.Index, request.HasImage, $"stream error: {text}", Stopwatch.GetElapsedTime(start, now).TotalSeconds);
            }

            if (HasContent(root))
            {
                if (contentChunks++ == 0)
                {
                    ttft = Stopwatch.GetElapsedTime(start, now).TotalSeconds;
                }
                else
                {
                    itls.Add(Stopwatch.GetElapsedTime(lastContent, now).TotalSeconds);
                }

                lastContent = now;
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                promptTokens = usage.TryGetProperty("prompt_tokens", out var p) ? p.GetInt32() : promptTokens;
                completionTokens = usage.TryGetProperty("completion_tokens", out var c) ? c.GetInt32() : completionTokens;
            }
        }

        return RequestResult.Failed(request.Index, request.HasImage, "stream closed before [DONE]", Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>True for a chunk with text, or with token ids (present only when return_token_ids was sent).</summary>
    private static bool HasContent(JsonElement root)
    {
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            return false;
        }

        var choice = choices[0];
        var hasText = choice.TryGetProperty("delta", out var delta)
            && delta.TryGetProperty("content", out var content)
            && content.ValueKind == JsonValueKind.String
            && content.GetString() is { Length: > 0 };
        return hasText
            || (choice.TryGetProperty("token_ids", out var ids) && ids.ValueKind == JsonValueKind.Array && ids.GetArrayLength() > 0);
    }

    private static string Shorten(string body) => body.Length <= 300 ? body : body[..300] + "...";
}
