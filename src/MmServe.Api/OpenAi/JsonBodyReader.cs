using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MmServe.Api.Errors;

namespace MmServe.Api.OpenAi;

/// <summary>
/// Reads a JSON request body under a byte limit and deserializes it with a source-generated contract. Failures
/// come back as <see cref="ApiError"/> values (413, malformed JSON, text that is not UTF-8, wrong type at a path) that
/// never echo System.Text.Json's exception text.
/// </summary>
internal static class JsonBodyReader
{
    private const int ChunkBytes = 64 * 1024;

    public static async Task<(T? Value, ApiError? Error)> ReadAsync<T>(
        HttpContext context, JsonTypeInfo<T> typeInfo, long limit, CancellationToken ct)
        where T : class
    {
        if (context.Request.ContentLength > limit)
        {
            return (null, ApiError.BodyTooLarge(limit));
        }

        var buffer = new ArrayBufferWriter<byte>(
            (int)Math.Min(context.Request.ContentLength ?? ChunkBytes, limit) + 1);
        try
        {
            var body = context.Request.Body;
            while (true)
            {
                var read = await body.ReadAsync(buffer.GetMemory(ChunkBytes), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > limit)
                {
                    // Also covers servers that do not enforce MaxRequestBodySize themselves (TestServer, chunked bodies).
                    return (null, ApiError.BodyTooLarge(limit));
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, ApiError.BodyTooLarge(limit));
        }

        return Deserialize(buffer.WrittenSpan, typeInfo);
    }

    public static (T? Value, ApiError? Error) Deserialize<T>(ReadOnlySpan<byte> json, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        if (JsonBodyScanner.Check(json) is { } refused)
        {
            return (null, refused);
        }

        try
        {
            var value = JsonSerializer.Deserialize(json, typeInfo);
            return value is null ? (null, ApiError.WrongType(null)) : (value, null);
        }
        catch (JsonException e)
        {
            // The JSON is well formed, so this is a value of the wrong type; only its path is echoed.
            return (null, ApiError.WrongType(ParamFromPath(e.Path)));
        }
    }

    /// <summary>"$.messages[0].content" → "messages[0].content"; null for the root.</summary>
    public static string? ParamFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return null;
        }

        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }
}
