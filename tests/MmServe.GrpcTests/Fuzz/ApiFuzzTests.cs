using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using MmServe.GrpcTests.Infrastructure;
using Xunit.Abstractions;

namespace MmServe.GrpcTests.Fuzz;

/// <summary>
/// Thousands of mutated requests against one real server, REST (chat, images, speech, transcription) and gRPC (every
/// unary and streaming method, mutated and random protobuf): a hostile body must always be a 4xx or a clean status,
/// never a 5xx, UNKNOWN or INTERNAL, never an exception in the log, and the server must still answer afterwards.
/// Seeded: the seed is printed and MMSERVE_FUZZ_SEED=n replays a run (MMSERVE_FUZZ_COUNT=n changes its size).
/// </summary>
public sealed class ApiFuzzTests(GrpcServerFixture server, ITestOutputHelper output) : IClassFixture<GrpcServerFixture>
{
    private const int DefaultCount = 10_000;
    private const int Concurrency = 8;

    [Fact]
    public async Task MutatedRequests_NeverGet5xxOrUnknownAndNeverLogAnException()
    {
        int seed = EnvInt("MMSERVE_FUZZ_SEED") ?? Environment.TickCount & 0x7FFFFFFF;
        int count = EnvInt("MMSERVE_FUZZ_COUNT") ?? DefaultCount;
        output.WriteLine($"fuzz seed {seed} ({count} requests); replay with MMSERVE_FUZZ_SEED={seed}");
        int logMark = server.Factory.Logs.Entries.Count;
        using var client = server.Factory.CreateHttpClient();
        var failures = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        using var gate = new SemaphoreSlim(Concurrency);
        var started = DateTime.UtcNow;

        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                // Each case has its own seed, so the run replays whatever order the cases finish in.
                var (what, outcome, bad) = await RunCaseAsync(client, new RequestMutator(HashCode.Combine(seed, i)));
                outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                if (bad)
                {
                    failures.Enqueue($"case {i} ({what}): {outcome}");
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        output.WriteLine($"{count} requests in {(DateTime.UtcNow - started).TotalSeconds:F0} s; outcomes: "
            + string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} x{o.Value}")));
        Assert.True(failures.IsEmpty, $"seed {seed}: {failures.Count} failures, first: {string.Join(" | ", failures.Take(5))}");
        var logged = server.Factory.Logs.ErrorsWithExceptions(logMark);
        Assert.True(logged.Count == 0, $"seed {seed}: {logged.Count} exceptions logged, first: {logged.FirstOrDefault()}");
        await AssertHealthyAsync(client);
    }

    private async Task<(string What, string Outcome, bool Bad)> RunCaseAsync(HttpClient client, RequestMutator m)
    {
        switch (m.Next(10))
        {
            case < 6:
                var seeds = FuzzSeeds.Json();
                var (path, body) = seeds[m.Next(seeds.Length)];
                var bytes = m.Next(2) == 0 ? m.MutateJson(body) : m.MutateBytes(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
                using (var content = new ByteArrayContent(bytes))
                {
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    return await SendAsync(client, path, content);
                }

            case 6:
                using (var form = TranscriptionForm(m))
                {
                    return await SendAsync(client, "v1/audio/transcriptions", form);
                }

            default:
                var methods = FuzzSeeds.Grpc();
                var (service, method, streaming, valid) = methods[m.Next(methods.Length)];
                byte[] request = m.Next(3) == 0 ? RandomBytes(m) : m.MutateBytes(valid);
                var e = await RawGrpc.CallAsync(server.Channel, service, method, streaming ? MethodType.ServerStreaming : MethodType.Unary, request);
                var status = e?.StatusCode ?? StatusCode.OK;
                return ($"grpc {method}", $"grpc {status}", status is StatusCode.Unknown or StatusCode.Internal or StatusCode.DataLoss);
        }
    }

    private static async Task<(string, string, bool)> SendAsync(HttpClient client, string path, HttpContent content)
    {
        using var response = await client.PostAsync(path, content);
        // SSE bodies are read to the end: a failure after the 200 shows as a server_error event.
        var text = await response.Content.ReadAsStringAsync();
        int status = (int)response.StatusCode;
        bool serverError = status >= 500 || text.Contains("\"server_error\"", StringComparison.Ordinal);
        return (path, $"{path} {status}", serverError);
    }

    private static MultipartFormDataContent TranscriptionForm(RequestMutator m)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, value) in FuzzSeeds.TranscriptionFields())
        {
            if (m.Next(8) != 0)
            {
                form.Add(new ByteArrayContent(m.Next(4) == 0 ? m.MutateBytes(value) : value), name);
            }
        }

        var file = new ByteArrayContent(m.Next(2) == 0 ? m.MutateBytes(FuzzSeeds.Wav) : FuzzSeeds.Wav);
        file.Headers.ContentType = new MediaTypeHeaderValue(m.Next(4) == 0 ? "image/png" : "audio/wav");
        form.Add(file, "file", m.Next(4) == 0 ? "clip.mp3" : "clip.wav");
        return form;
    }

    private static byte[] RandomBytes(RequestMutator m)
    {
        var bytes = new byte[m.Next(64)];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)m.Next(256);
        }

        return bytes;
    }

    private async Task AssertHealthyAsync(HttpClient client)
    {
        using (var ready = await client.GetAsync("health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        using (var chat = await Chat.PostAsync(client, Chat.Request("Hello!", 2)))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        var reply = await server.Chat.ChatAsync(Requests.Text("Hello!", 2));
        Assert.False(string.IsNullOrEmpty(reply.RequestId));
    }

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : null;
}
