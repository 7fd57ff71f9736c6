using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
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
            return await ReadEventsAsync(request, PipeReader.Create(stream), start, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or IOException or TaskCanceledException or JsonException)
        {
            // A TaskCanceledException while our own token is not cancelled is HttpClient's per-request timeout.
            return Fail(e is TaskCanceledException ? "timed out" : $"{e.GetType().Name}: {e.Message}");
        }

        RequestResult Fail(string error) =>
            RequestResult.Failed(request.Index, request.HasImage, error, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>Reads one response body of server-sent events; <paramref name="start"/> is when the request was sent.</summary>
    internal static async Task<RequestResult> ReadEventsAsync(BenchRequest request, PipeReader pipe, long start, CancellationToken ct)
    {
        var events = new EventTimes(start);
        try
        {
            while (true)
            {
                var read = await pipe.ReadAsync(ct).ConfigureAwait(false);
                var buffer = read.Buffer;
                var now = Stopwatch.GetTimestamp();
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    if (events.OnLine(line, now) is { } ended)
                    {
                        return ended(request);
                    }
                }

                pipe.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    return RequestResult.Failed(request.Index, request.HasImage, "stream closed before [DONE]", Stopwatch.GetElapsedTime(start).TotalSeconds);
                }
            }
        }
        finally
        {
            await pipe.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The timing state of one stream, fed its lines as they arrive (all lines of one read share its time).</summary>
    private sealed class EventTimes(long start)
    {
        private static readonly byte[] DataField = "data:"u8.ToArray();

        private readonly List<double> _itls = [];
        private double _ttft;
        private long _lastContent;
        private int? _promptTokens;
        private int? _completionTokens;
        private int _contentChunks;

        /// <summary>Null while the stream goes on; the result's maker once it has ended ([DONE] or an error event).</summary>
        public Func<BenchRequest, RequestResult>? OnLine(ReadOnlySequence<byte> line, long now)
        {
            // SSE: blank lines end events, ':' lines are comments; everything we need is on "data:" lines.
            if (!StartsWith(line, DataField))
            {
                return null;
            }

            var data = Trim(line.Slice(DataField.Length));
            if (data.Length == 6 && StartsWith(data, "[DONE]"u8))
            {
                var latency = Stopwatch.GetElapsedTime(start, now).TotalSeconds;

                // A completion whose only token has no text (an immediate end-of-sequence) never sends content:
                // its first token is only known at the end, so TTFT is the whole latency rather than a fake 0.
                var ttft = _contentChunks == 0 ? latency : _ttft;

                // Without a usage chunk fall back to one token per content chunk (vLLM would re-tokenise the text).
                return request => new RequestResult(request.Index, request.HasImage, true, null, ttft, _itls, latency,
                    _promptTokens ?? 0, _completionTokens ?? _contentChunks);
            }

            var chunk = ChunkScan.Read(data);
            if (chunk.IsError)
            {
                var elapsed = Stopwatch.GetElapsedTime(start, now).TotalSeconds;
                return request => RequestResult.Failed(request.Index, request.HasImage, $"stream error: {chunk.ErrorMessage}", elapsed);
            }

            if (chunk.HasContent)
            {
                if (_contentChunks++ == 0)
                {
                    _ttft = Stopwatch.GetElapsedTime(start, now).TotalSeconds;
                }
                else
                {
                    _itls.Add(Stopwatch.GetElapsedTime(_lastContent, now).TotalSeconds);
                }

                _lastContent = now;
            }

            _promptTokens = chunk.PromptTokens ?? _promptTokens;
            _completionTokens = chunk.CompletionTokens ?? _completionTokens;
            return null;
        }

        private static bool StartsWith(ReadOnlySequence<byte> bytes, ReadOnlySpan<byte> prefix)
        {
            if (bytes.Length < prefix.Length)
            {
                return false;
            }

            if (bytes.FirstSpan.Length >= prefix.Length)
            {
                return bytes.FirstSpan.StartsWith(prefix);
            }

            Span<byte> head = stackalloc byte[prefix.Length];
            bytes.Slice(0, prefix.Length).CopyTo(head);
            return head.SequenceEqual(prefix);
        }

        /// <summary>Drops blanks around the value and a trailing \r (SSE lines may end in \r\n).</summary>
        private static ReadOnlySequence<byte> Trim(ReadOnlySequence<byte> bytes)
        {
            var reader = new SequenceReader<byte>(bytes);
            reader.AdvancePastAny((byte)' ', (byte)'\t');
            var rest = bytes.Slice(reader.Position);
            while (rest.Length > 0 && rest.Slice(rest.Length - 1).FirstSpan[0] is (byte)' ' or (byte)'\r' or (byte)'\t')
            {
                rest = rest.Slice(0, rest.Length - 1);
            }

            return rest;
        }
    }

    private static string Shorten(string body) => body.Length <= 300 ? body : body[..300] + "...";
}
