using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MmServe.Media.Tests.Remote;

/// <summary>
/// A real TCP listener on a loopback address that speaks just enough HTTP/1.1 for the fetcher tests. It serves one
/// request per connection and counts both, so a test can prove that a refused URL caused no connection at all.
/// </summary>
internal sealed class LocalHttpServer : IAsyncDisposable
{
    private const int MaxHeadBytes = 16 * 1024;

    private readonly TcpListener listener;
    private readonly Func<ReceivedRequest, Stream, CancellationToken, Task> respond;
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentQueue<Task> connectionTasks = new();
    private readonly ConcurrentQueue<ReceivedRequest> requests = new();
    private readonly Task acceptLoop;
    private int connectionCount;

    private LocalHttpServer(IPAddress address, Func<ReceivedRequest, Stream, CancellationToken, Task> respond)
    {
        this.respond = respond;
        listener = new TcpListener(address, 0);
        listener.Start();
        acceptLoop = AcceptLoopAsync();
    }

    public IPAddress Address => ((IPEndPoint)listener.LocalEndpoint).Address;

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    public int ConnectionCount => Volatile.Read(ref connectionCount);

    public int RequestCount => requests.Count;

    public IReadOnlyList<ReceivedRequest> Requests => [.. requests];

    /// <summary>Starts a server on <paramref name="address"/> (127.0.0.1 unless given) that answers with <paramref name="respond"/>.</summary>
    public static LocalHttpServer Start(Func<ReceivedRequest, Stream, CancellationToken, Task> respond, IPAddress? address = null) =>
        new(address ?? IPAddress.Loopback, respond);

    /// <summary>http://address:port + path; only for IPv4 listeners.</summary>
    public Uri Url(string path = "/") => new($"http://{Address}:{Port}{path}");

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        await acceptLoop;
        await Task.WhenAll(connectionTasks);
        stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // Stopped, possibly between two accepts (then AcceptTcpClientAsync reports "not listening").
                return;
            }

            Interlocked.Increment(ref connectionCount);
            connectionTasks.Enqueue(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                if (await ReadRequestAsync(stream, stopping.Token) is { } request)
                {
                    requests.Enqueue(request);
                    await respond(request, stream, stopping.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The fetcher hung up (a refused body, a timeout) or the server is stopping; both are expected.
            }
        }
    }

    private static async Task<ReceivedRequest?> ReadRequestAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!EndsWithBlankLine(head))
        {
            if (head.Count >= MaxHeadBytes || await stream.ReadAsync(one, cancellationToken) == 0)
            {
                return null;
            }

            head.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }

        return new ReceivedRequest(requestLine[0], requestLine[1], headers);
    }

    private static bool EndsWithBlankLine(List<byte> head) =>
        head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n';
}
