using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace MmServe.Media.Tests.Remote;

/// <summary>Canned HTTP/1.1 answers for <see cref="LocalHttpServer"/>; every one closes the connection afterwards.</summary>
internal static class Responses
{
    public static Func<ReceivedRequest, Stream, CancellationToken, Task> Ok(byte[] body, string? contentType = "image/png") =>
        (_, stream, ct) => WriteAsync(stream, 200, body, ct, contentType is null ? [] : [("Content-Type", contentType)]);

    public static Func<ReceivedRequest, Stream, CancellationToken, Task> Status(int status) =>
        (_, stream, ct) => WriteAsync(stream, status, Encoding.ASCII.GetBytes($"response body {status}"), ct, [("Content-Type", "text/plain")]);

    public static Func<ReceivedRequest, Stream, CancellationToken, Task> Redirect(string location, int status = 302) =>
        (_, stream, ct) => WriteAsync(stream, status, [], ct, [("Location", location)]);

    /// <summary>Answers the n-th request (0-based) with <c>answers[n]</c>, repeating the last one after that.</summary>
    public static Func<ReceivedRequest, Stream, CancellationToken, Task> Sequence(params Func<ReceivedRequest, Stream, CancellationToken, Task>[] answers)
    {
        var next = -1;
        return (request, stream, ct) =>
        {
            var index = Math.Min(Interlocked.Increment(ref next), answers.Length - 1);
            return answers[index](request, stream, ct);
        };
    }

    /// <summary>Picks the answer by request path; unknown paths get 404.</summary>
    public static Func<ReceivedRequest, Stream, CancellationToken, Task> ByPath(
        IReadOnlyDictionary<string, Func<ReceivedRequest, Stream, CancellationToken, Task>> answers) =>
        (request, stream, ct) => answers.TryGetValue(request.Target, out var answer) ? answer(request, stream, ct) : Status(404)(request, stream, ct);

    /// <summary>Accepts the request and never answers, until the server is disposed.</summary>
    public static Func<ReceivedRequest, Stream, CancellationToken, Task> Hang() =>
        (_, _, ct) => Task.Delay(Timeout.Infinite, ct);

    /// <summary>Sends headers that announce <paramref name="contentLength"/> bytes, then never sends the body.</summary>
    public static Func<ReceivedRequest, Stream, CancellationToken, Task> DeclaredLengthThenHang(long contentLength) =>
        async (_, stream, ct) =>
        {
            await WriteHeadAsync(stream, 200, ct, [("Content-Type", "image/png"), ("Content-Length", contentLength.ToString())]);
            await Task.Delay(Timeout.Infinite, ct);
        };

    /// <summary>
    /// A chunked body with no Content-Length that goes on until the client hangs up (or <paramref name="safetyCapBytes"/>,
    /// so a broken fetcher cannot keep the test busy forever). <paramref name="bytesWritten"/> counts what was sent.
    /// </summary>
    public static Func<ReceivedRequest, Stream, CancellationToken, Task> EndlessChunked(StrongBox<long> bytesWritten, long safetyCapBytes = 256L * 1024 * 1024) =>
        async (_, stream, ct) =>
        {
            await WriteHeadAsync(stream, 200, ct, [("Content-Type", "video/mp4"), ("Transfer-Encoding", "chunked")]);
            var chunk = new byte[16 * 1024];
            var framedChunk = Encoding.ASCII.GetBytes($"{chunk.Length:X}\r\n").Concat(chunk).Concat("\r\n"u8.ToArray()).ToArray();
            while (Interlocked.Read(ref bytesWritten.Value) < safetyCapBytes)
            {
                await stream.WriteAsync(framedChunk, ct);
                Interlocked.Add(ref bytesWritten.Value, chunk.Length);
            }
        };

    /// <summary>A gzip Content-Encoding body; the declared Content-Length is the compressed size.</summary>
    public static Func<ReceivedRequest, Stream, CancellationToken, Task> Gzipped(byte[] compressed) =>
        (_, stream, ct) => WriteAsync(stream, 200, compressed, ct, [("Content-Type", "image/png"), ("Content-Encoding", "gzip")]);

    public static byte[] Gzip(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        return output.ToArray();
    }

    private static async Task WriteAsync(Stream stream, int status, byte[] body, CancellationToken ct, (string Name, string Value)[] headers)
    {
        await WriteHeadAsync(stream, status, ct, [.. headers, ("Content-Length", body.Length.ToString())]);
        await stream.WriteAsync(body, ct);
        await stream.FlushAsync(ct);
    }

    private static async Task WriteHeadAsync(Stream stream, int status, CancellationToken ct, (string Name, string Value)[] headers)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} Status{status}\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), ct);
        await stream.FlushAsync(ct);
    }
}
