using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;

namespace MmServe.Api.Sse;

/// <summary>
/// Writes server-sent events as OpenAI streams them: each event is <c>data: &lt;json&gt;\n\n</c> and the stream
/// ends with <c>data: [DONE]\n\n</c>. Events are buffered in the response pipe until <see cref="FlushAsync"/>
/// (response buffering is off, so nothing else holds them back): callers flush once per burst of events rather
/// than once per event, which saves a socket write per token when the client falls behind. Not thread-safe.
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

    /// <summary>Writes one event and sends it at once.</summary>
    public async ValueTask WriteEventAsync<T>(T value, JsonTypeInfo<T> typeInfo, CancellationToken ct)
    {
        BufferEvent(value, typeInfo);
        await FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Writes one event into the response pipe without sending it; <see cref="FlushAsync"/> sends.</summary>
    public void BufferEvent<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var body = _response.BodyWriter;
        body.Write(DataPrefix);
        _json.Reset(body);
        JsonSerializer.Serialize(_json, value, typeInfo);
        _json.Flush();
        body.Write(EventEnd);
    }

    public async ValueTask FlushAsync(CancellationToken ct) =>
        await _response.BodyWriter.FlushAsync(ct).ConfigureAwait(false);

    public async ValueTask WriteDoneAsync(CancellationToken ct)
    {
        var body = _response.BodyWriter;
        body.Write(Done);
        await body.FlushAsync(ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _json.DisposeAsync();
}
