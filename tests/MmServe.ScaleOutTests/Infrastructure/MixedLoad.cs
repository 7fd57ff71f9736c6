using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using MmServe.Grpc.V1;

namespace MmServe.ScaleOutTests.Infrastructure;

public enum ApiKind
{
    RestJson,
    RestStream,
    GrpcStream,
    GrpcUnary,
}

public enum Outcome
{
    /// <summary>A whole answer: JSON with choices, a stream ending in [DONE], gRPC Finished / OK.</summary>
    Success,

    /// <summary>A stream that ended with the gateway's error event (SSE) or UNAVAILABLE (gRPC) after it had started.</summary>
    StreamError,

    /// <summary>Anything else: an error status, a truncated stream, an exception.</summary>
    Failed,

    /// <summary>No end within the request timeout.</summary>
    Hung,
}

/// <summary>One request of a <see cref="MixedLoad"/>; times are seconds since the load started.</summary>
public sealed class RequestRecord(int index, ApiKind api, bool image)
{
    public int Index { get; } = index;

    public ApiKind Api { get; } = api;

    public bool Image { get; } = image;

    public bool Streamed => Api is ApiKind.RestStream or ApiKind.GrpcStream;

    public double StartAt { get; set; }

    /// <summary>When the response headers arrived (they name the worker).</summary>
    public double? HeadersAt { get; set; }

    public double? FirstChunkAt { get; set; }

    public double EndAt { get; set; }

    public string? Worker { get; set; }

    public Outcome Outcome { get; set; }

    public string? Detail { get; set; }

    public override string ToString() =>
        $"#{Index} {Api}{(Image ? "+image" : "")} on {Worker ?? "?"}: {Outcome} {Detail} (start {StartAt:F2}, headers {HeadersAt:F2}, first chunk {FirstChunkAt:F2}, end {EndAt:F2})";
}

/// <summary>
/// Requests of four kinds (REST JSON, REST SSE, gRPC stream, gRPC unary), every third with an image, sent through the
/// gateway at a fixed concurrency; each generates <c>maxTokens</c> tokens (ignore_eos) so that streams stay open
/// long enough to be caught by a worker failure.
/// </summary>
public sealed class MixedLoad(Cluster cluster, int count, int concurrency, int maxTokens)
{
    /// <summary>The golden cases' images (the model was trained on such shapes).</summary>
    private static readonly byte[][] Images = [.. GoldenCases.TextAndImage
        .SelectMany(c => c.Messages)
        .SelectMany(m => m!["content"] as JsonArray ?? new JsonArray())
        .Select(p => p!["image_url"]?["url"]?.GetValue<string>())
        .OfType<string>()
        .Select(url => Convert.FromBase64String(url[(url.IndexOf(',', StringComparison.Ordinal) + 1)..]))
        .DistinctBy(Convert.ToBase64String)
        .Take(4)];

    private readonly Stopwatch _clock = new();
    private int _completed;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(45);

    public int Completed => Volatile.Read(ref _completed);

    public double Now => _clock.Elapsed.TotalSeconds;

    public IReadOnlyList<RequestRecord> Records { get; } = [.. Enumerable.Range(0, count).Select(i => new RequestRecord(i, (ApiKind)(i % 4), i % 3 == 0))];

    /// <summary>Runs every request; completes when all have ended (or hung past the timeout).</summary>
    public async Task RunAsync()
    {
        _clock.Start();
        using var slots = new SemaphoreSlim(concurrency);
        await Task.WhenAll(Records.Select(async record =>
        {
            await slots.WaitAsync();
            try
            {
                record.StartAt = Now;
                using var timeout = new CancellationTokenSource(RequestTimeout);
                try
                {
                    await SendAsync(record, timeout.Token);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    record.Outcome = Outcome.Hung;
                }
                catch (Exception e)
                {
                    record.Outcome = Outcome.Failed;
                    record.Detail = $"{e.GetType().Name}: {e.Message}";
                }

                record.EndAt = Now;
            }
            finally
            {
                Interlocked.Increment(ref _completed);
                slots.Release();
            }
        }));
    }

    private Task SendAsync(RequestRecord record, CancellationToken ct) => record.Api switch
    {
        ApiKind.RestJson => RestJsonAsync(record, ct),
        ApiKind.RestStream => RestStreamAsync(record, ct),
        ApiKind.GrpcStream => GrpcStreamAsync(record, ct),
        _ => GrpcUnaryAsync(record, ct),
    };

    private async Task RestJsonAsync(RequestRecord record, CancellationToken ct)
    {
        using var response = await cluster.Rest.PostAsync(Chat.Route, RestBody(record, stream: false), ct);
        Headers(record, response);
        var body = await response.Content.ReadAsStringAsync(ct);
        record.Outcome = response.StatusCode == HttpStatusCode.OK && body.Contains("\"choices\"", StringComparison.Ordinal) ? Outcome.Success : Outcome.Failed;
        record.Detail = record.Outcome == Outcome.Success ? null : $"{(int)response.StatusCode} {body}";
    }

    private async Task RestStreamAsync(RequestRecord record, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat.Route) { Content = RestBody(record, stream: true) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await cluster.Rest.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        Headers(record, response);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            record.Outcome = Outcome.Failed;
            record.Detail = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}";
            return;
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                record.Outcome = string.IsNullOrWhiteSpace(await reader.ReadToEndAsync(ct)) ? Outcome.Success : Outcome.Failed;
                return;
            }

            if (data.StartsWith("{\"error\"", StringComparison.Ordinal))
            {
                using var error = JsonDocument.Parse(data);
                record.Outcome = error.RootElement.GetProperty("error").GetProperty("code").GetString() == "worker_failed" ? Outcome.StreamError : Outcome.Failed;
                record.Detail = data;
                return;
            }

            record.FirstChunkAt ??= Now;
        }

        record.Outcome = Outcome.Failed;
        record.Detail = "the stream ended without [DONE] or an error event";
    }

    private async Task GrpcStreamAsync(RequestRecord record, CancellationToken ct)
    {
        using var call = cluster.Grpc.StreamChat(GrpcRequest(record), cancellationToken: ct);
        try
        {
            Headers(record, await call.ResponseHeadersAsync);
            ChatChunk? last = null;
            await foreach (var chunk in call.ResponseStream.ReadAllAsync(ct))
            {
                record.FirstChunkAt ??= Now;
                last = chunk;
            }

            record.Outcome = last?.EventCase == ChatChunk.EventOneofCase.Finished ? Outcome.Success : Outcome.Failed;
            record.Detail = record.Outcome == Outcome.Success ? null : $"last chunk {last?.EventCase}";
        }
        catch (RpcException e) when (!ct.IsCancellationRequested)
        {
            record.Outcome = e.StatusCode == StatusCode.Unavailable && record.FirstChunkAt is not null ? Outcome.StreamError : Outcome.Failed;
            record.Detail = $"{e.StatusCode}: {e.Status.Detail}";
        }
    }

    private async Task GrpcUnaryAsync(RequestRecord record, CancellationToken ct)
    {
        using var call = cluster.Grpc.ChatAsync(GrpcRequest(record), cancellationToken: ct);
        try
        {
            Headers(record, await call.ResponseHeadersAsync);
            var response = await call.ResponseAsync;
            record.Outcome = response.Usage.CompletionTokens == maxTokens ? Outcome.Success : Outcome.Failed;
        }
        catch (RpcException e) when (!ct.IsCancellationRequested)
        {
            record.Outcome = Outcome.Failed;
            record.Detail = $"{e.StatusCode}: {e.Status.Detail}";
        }
    }

    private void Headers(RequestRecord record, HttpResponseMessage response)
    {
        record.HeadersAt = Now;
        record.Worker = response.Headers.TryGetValues(Cluster.WorkerHeader, out var values) ? values.Single() : null;
    }

    private void Headers(RequestRecord record, Metadata headers)
    {
        record.HeadersAt = Now;
        record.Worker = headers.GetValue(Cluster.WorkerHeader.ToLowerInvariant());
    }

    private StringContent RestBody(RequestRecord record, bool stream)
    {
        var content = new JsonArray();
        if (record.Image)
        {
            content.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = TestImages.DataUrl(Images[record.Index % Images.Length]) } });
        }

        content.Add(new JsonObject { ["type"] = "text", ["text"] = record.Image ? "What colour is the shape?" : "Count from one to five." });
        var body = new JsonObject
        {
            ["model"] = Chat.Model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
            ["temperature"] = 0,
            ["max_tokens"] = maxTokens,
            ["ignore_eos"] = true,
            ["stream"] = stream,
        };
        return new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
    }

    private ChatRequest GrpcRequest(RequestRecord record)
    {
        var message = new Message { Role = Role.User };
        if (record.Image)
        {
            message.Content.Add(new ContentPart { Media = new MediaInput { MimeType = "image/png", Data = ByteString.CopyFrom(Images[record.Index % Images.Length]) } });
        }

        message.Content.Add(new ContentPart { Text = record.Image ? "What colour is the shape?" : "Count from one to five." });
        var request = new ChatRequest
        {
            Model = Chat.Model,
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true },
        };
        request.Messages.Add(message);
        return request;
    }
}
