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
public sealed class RemoteMediaTests(RemoteMediaTests.Fixture fixture) : IClassFixture<RemoteMediaTests.Fixture>
{
    private readonly CountingImageServer _listener = fixture.Listener.Reset();
    private readonly HttpClient _client = fixture.Client;

    /// <summary>One server with remote media on (and an internal network allowed) for the whole class.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private MmServeFactory _factory = null!;

        public CountingImageServer Listener { get; } = new();

        public HttpClient Client { get; private set; } = null!;

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
                ["Limits:Image:MaxBytes"] = "1048576",
            });
            await _factory.StartAndWaitReadyAsync();
            Client = _factory.CreateHttpClient();
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await _factory.DisposeAsync();
            Listener.Dispose();
        }
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

    [Fact]
    public async Task AnAllowedHostRedirectingToLoopback_IsRefused_AfterOnlyTheFirstConnection()
    {
        _listener.RedirectTo = $"http://127.0.0.1:{_listener.Port}/secret.png";
        using var response = await Chat.PostAsync(_client, Chat.WithImages("What is this?", $"http://127.0.0.2:{_listener.Port}/image.png"));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].image_url.url", "remote_media_forbidden");
        Assert.Equal(1, _listener.Connections); // the allowed first hop only; the loopback hop never connected
    }

    [Fact]
    public async Task ABodyThatNeverEnds_IsCutAtTheByteCap()
    {
        _listener.Endless = true;
        using var response = await Chat.PostAsync(_client, Chat.WithImages("What is this?", $"http://127.0.0.2:{_listener.Port}/endless.png"));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].image_url.url", "remote_media_too_large");
    }

    [Fact]
    public async Task ABodyThatTrickles_IsCutAtTheTimeout()
    {
        _listener.Trickle = true;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await Chat.PostAsync(_client, Chat.WithImages("What is this?", $"http://127.0.0.2:{_listener.Port}/slow.png"));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].image_url.url", "remote_media_timeout");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}"); // the fixture's timeout is 5 s
    }

    /// <summary>A one-request-per-connection HTTP server on 127.0.0.2 that counts connections (also from 127.0.0.1, it listens on any).</summary>
    public sealed class CountingImageServer : IDisposable
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

        /// <summary>Back to a plain image server with no connections counted (each test starts here).</summary>
        public CountingImageServer Reset()
        {
            Volatile.Write(ref _connections, 0);
            Body = [];
            RedirectTo = null;
            Endless = false;
            Trickle = false;
            return this;
        }

        public int Connections => Volatile.Read(ref _connections);

        public byte[] Body { get; set; } = [];

        /// <summary>Answer 302 to this location instead of the body.</summary>
        public string? RedirectTo { get; set; }

        /// <summary>Stream bytes without a length until the client hangs up.</summary>
        public bool Endless { get; set; }

        /// <summary>Send one byte per second, forever.</summary>
        public bool Trickle { get; set; }

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

                        try
                        {
                            await RespondAsync(stream);
                        }
                        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
                        {
                            // The client hung up (as it should for endless and trickling bodies).
                        }
                    }
                });
            }
        }

        private async Task RespondAsync(NetworkStream stream)
        {
            if (RedirectTo is { } location)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                return;
            }

            if (Endless || Trickle)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n"));
                var chunk = new byte[Trickle ? 1 : 64 * 1024];
                while (!_stop.IsCancellationRequested)
                {
                    await stream.WriteAsync(chunk, _stop.Token);
                    if (Trickle)
                    {
                        await Task.Delay(1000, _stop.Token);
                    }
                }

                return;
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n"));
            await stream.WriteAsync(Body);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
