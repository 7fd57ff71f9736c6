using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// Remote media URLs end to end, with remote fetching switched on: internal addresses in every spelling are
/// refused before any connection (a local listener counts them), and an explicitly allowed internal network
/// serves an image that the model then reads exactly like the same image sent inline.
/// </summary>
public sealed class RemoteMediaTests : IAsyncLifetime
{
    private readonly CountingImageServer _listener = new();
    private MmServeFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Media:Remote:Enabled"] = "true",
            ["Media:Remote:AllowHttp"] = "true",
            ["Media:Remote:TimeoutSeconds"] = "5",
            ["Media:Remote:MaxRetries"] = "0",
            ["Media:Remote:AllowedDomains:0"] = "127.0.0.1",
            ["Media:Remote:AllowedDomains:1"] = "169.254.169.254",
            ["Media:Remote:AllowedDomains:2"] = "::ffff:127.0.0.1",
            ["Media:Remote:AllowedDomains:3"] = "2130706433",
            ["Media:Remote:AllowedDomains:4"] = "0.0.0.0",
            ["Media:Remote:AllowedDomains:5"] = "localhost",
            ["Media:Remote:AllowedDomains:6"] = "127.0.0.2",
            ["Media:Remote:AllowedNetworks:0"] = "127.0.0.2/32",
        });
        await _factory.StartAndWaitReadyAsync();
        _client = _factory.CreateHttpClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        _listener.Dispose();
    }

    [Theory]
    [InlineData("http://127.0.0.1:{0}/cat.png")]
    [InlineData("http://169.254.169.254:{0}/latest/meta-data")]
    [InlineData("http://[::ffff:127.0.0.1]:{0}/cat.png")]
    [InlineData("http://2130706433:{0}/cat.png")]
    [InlineData("http://0.0.0.0:{0}/cat.png")]
    [InlineData("http://localhost:{0}/cat.png")]
    public async Task InternalAddresses_AreRefusedWithoutConnecting(string template)
    {
        var url = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _listener.Port);
        using var response = await Chat.PostAsync(_client, Chat.WithImages("What is this?", url));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].image_url.url", "remote_media_forbidden");
        Assert.DoesNotContain("127.0.0.1", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, _listener.Connections);
    }

    [Fact]
    public async Task AnAllowedInternalNetwork_ServesTheImage_AndTheModelReadsItLikeAnInlineOne()
    {
        var golden = GoldenCases.ImageCaption;
        var inline = golden.ToRequest();
        var remote = golden.ToRequest();
        var part = remote["messages"]!.AsArray().SelectMany(m => m!["content"] as JsonArray ?? []).First(p => p!["type"]!.GetValue<string>() == "image_url")!;
        var dataUrl = part["image_url"]!["url"]!.GetValue<string>();
        _listener.Body = Convert.FromBase64String(dataUrl[(dataUrl.IndexOf(',', StringComparison.Ordinal) + 1)..]);
        part["image_url"]!["url"] = $"http://127.0.0.2:{_listener.Port}/image.png";

        using var viaUrl = await Chat.PostAsync(_client, remote);
        using var viaData = await Chat.PostAsync(_client, inline);

        var a = await Chat.ReadJsonAsync(viaUrl);
        var b = await Chat.ReadJsonAsync(viaData);
        Assert.Equal(HttpStatusCode.OK, viaUrl.StatusCode);
        Assert.Equal(1, _listener.Connections);
        Assert.Equal(golden.CompletionText, a.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(b.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), a.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    /// <summary>A one-request-per-connection HTTP server on 127.0.0.2 that counts connections (also from 127.0.0.1, it listens on any).</summary>
    private sealed class CountingImageServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Any, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _connections;

        public CountingImageServer()
        {
            _listener.Start();
            _ = Task.Run(AcceptLoopAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => Volatile.Read(ref _connections);

        public byte[] Body { get; set; } = [];

        private async Task AcceptLoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }

                Interlocked.Increment(ref _connections);
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        var stream = client.GetStream();
                        var buffer = new byte[8192];
                        var request = new StringBuilder();
                        while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                        {
                            int n = await stream.ReadAsync(buffer);
                            if (n == 0)
                            {
                                return;
                            }

                            request.Append(Encoding.ASCII.GetString(buffer, 0, n));
                        }

                        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n");
                        await stream.WriteAsync(head);
                        await stream.WriteAsync(Body);
                    }
                });
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
