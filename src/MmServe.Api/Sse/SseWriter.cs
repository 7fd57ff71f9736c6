using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;

namespace MmServe.Api.Sse;

/// <summary>
/// Writes server-sent events as OpenAI streams them: each event is <c>data: &lt;json&gt;\n\n</c>, flushed at once
/// (response buffering off), and the stream ends with <c>data: [DONE]\n\n</c>. Not thread-safe.
/// </summary>
internal sealed class SseWriter : IAsyncDisposable
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly HttpResponse _response;
    private readonly Utf8JsonWriter _json;

    public SseWriter(HttpResponse response)
    {
        _response = response;
        _json = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { Encoder = OpenAi.OpenAiJsonContext.WireEncoder });
    }

    /// <summary>Sends the status and headers; from here on errors can only travel as events.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        _response.StatusCode = StatusCodes.Status200OK;
        _response.ContentType = "text/event-stream";
        _response.Headers.CacheControl = "no-cache";
        _response.Headers["X-Accel-Buffering"] = "no"; // tell nginx-style proxies not to buffer either
        _response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return _response.StartAsync(ct);
    }

    public async ValueTask WriteEventAsync<T>(T value, JsonTypeInfo<T> typeInfo, CancellationToken ct)
    {
        var body = _response.BodyWriter;
        body.Write(DataPrefix);
        _json.Reset(body);
        JsonSerializer.Serialize(_json, value, typeInfo);
        _json.Flush();
        body.Write(EventEnd);
        await body.FlushAsync(ct).ConfigureAwait(false);
    }

    public async ValueTask WriteDoneAsync(CancellationToken ct)
    {
        var body = _response.BodyWriter;
        body.Write(Done);
        await body.FlushAsync(ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _json.DisposeAsync();
}
