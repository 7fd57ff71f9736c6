using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using MmServe.FunctionalTests.Infrastructure;
using OpenTelemetry.Trace;

namespace MmServe.FunctionalTests.Telemetry;

/// <summary>
/// The span tree of image requests, captured with OpenTelemetry's in-memory exporter: the HTTP span (continuing the
/// client's W3C traceparent), the request span "chat {model}" under it with GenAI attributes and the engine's
/// queue/prefill/decode stages and the SSE write, one media span per image under that, and the batched encoder run as
/// its own span linked to every request's media span it served.
/// </summary>
public sealed class TracingTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private readonly MmServeFactory _factory;
    private HttpClient _client = null!;

    public TracingTests()
    {
        _factory = new MmServeFactory(
            new Dictionary<string, string?>
            {
                // Items that queue while every run slot is busy leave together; a short wait gathers a burst.
                ["Media:EncoderBatching:MaxWaitMs"] = "50",
                ["Media:EncoderCache:MaxBytes"] = "0",

                // Traces are recorded only with somewhere to send them; the in-memory exporter is added in code.
                ["Telemetry:Traces"] = "true",
            },
            services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)));
    }

    public async Task InitializeAsync()
    {
        await _factory.StartAndWaitReadyAsync();

        // This process's HttpClient is instrumented too and would start its own trace over the test's traceparent:
        // a handler without a propagator sends the header as written, as an outside client would.
        _client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null })
        {
            BaseAddress = _factory.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task StreamedImageRequest_HasTheRequestMediaAndEncoderSpansUnderTheClientsTrace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var body = Chat.WithImages("What colour is the shape?", TestImages.DataUrl(TestImages.SolidPng(24, 24, 0, 0, 255)));
        body["stream"] = true;
        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat.Route) { Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = await Chat.ReadEventsAsync(response);
        var usage = JsonNode.Parse(events[^2])!["usage"]!;

        // The HTTP span stops last, after the response body is complete.
        var spans = await WaitForAsync(s => s.TraceId == traceId && s.Kind == ActivityKind.Server);
        var http = Assert.Single(spans, s => s.TraceId == traceId && s.Kind == ActivityKind.Server);
        var chat = Assert.Single(spans, s => s.TraceId == traceId && s.DisplayName == $"chat {Chat.Model}");
        Assert.Equal(http.SpanId, chat.ParentSpanId);
        Assert.Equal("chat", chat.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(Chat.Model, chat.GetTagItem("gen_ai.request.model"));
        Assert.Equal(usage["prompt_tokens"]!.GetValue<int>(), chat.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(usage["completion_tokens"]!.GetValue<int>(), chat.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Contains(chat.Events, e => e.Name == "gen_ai.first_token");

        // The engine's stages, one span each, in order inside the request span.
        var stages = new[] { "gen_ai.queue", "gen_ai.prefill", "gen_ai.decode" }
            .Select(name => Assert.Single(spans, s => s.TraceId == traceId && s.DisplayName == name))
            .ToList();
        Assert.All(stages, stage => Assert.Equal(chat.SpanId, stage.ParentSpanId));
        Assert.True(chat.StartTimeUtc <= stages[0].StartTimeUtc);
        Assert.True(stages[0].StartTimeUtc + stages[0].Duration <= stages[1].StartTimeUtc + TimeSpan.FromMilliseconds(1));
        Assert.True(stages[1].StartTimeUtc + stages[1].Duration <= stages[2].StartTimeUtc + TimeSpan.FromMilliseconds(1));
        Assert.True(stages[2].StartTimeUtc + stages[2].Duration <= chat.StartTimeUtc + chat.Duration + TimeSpan.FromMilliseconds(1));

        var write = Assert.Single(spans, s => s.TraceId == traceId && s.DisplayName == "write sse");
        Assert.Equal(chat.SpanId, write.ParentSpanId);

        var media = Assert.Single(spans, s => s.TraceId == traceId && s.DisplayName == "media image");
        Assert.Equal(chat.SpanId, media.ParentSpanId);
        var encoder = Assert.Single(spans, s => s.DisplayName == "encoder image" && s.Links.Any(l => l.Context.SpanId == media.SpanId));
        Assert.NotEqual(traceId, encoder.TraceId);
    }

    /// <remarks>
    /// Whether two of these requests share a run depends on timing; that a shared run links every caller is pinned
    /// down deterministically in Runtime.Onnx.Tests (ComponentBatcherTracingTests). Here: the end-to-end wiring.
    /// </remarks>
    [Fact]
    public async Task ConcurrentImageRequests_EveryMediaSpanIsLinkedFromTheEncoderRunThatServedIt()
    {
        var bodies = Enumerable.Range(0, 3 * Environment.ProcessorCount + 2)
            .Select(i => Chat.WithImages("What colour is the shape?", TestImages.DataUrl(TestImages.SolidPng(20 + i, 20, (byte)(10 * i), 0, 0))))
            .ToList();
        var responses = await Task.WhenAll(bodies.Select(b => Chat.PostAsync(_client, b)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses)
        {
            response.Dispose();
        }

        var spans = await WaitForAsync(_ => CountChats() >= bodies.Count);
        var chats = spans.Where(s => s.DisplayName == $"chat {Chat.Model}" && (int?)s.GetTagItem("mmserve.media.count") == 1).TakeLast(bodies.Count).ToList();
        var media = spans.Where(s => s.DisplayName == "media image" && chats.Any(c => c.SpanId == s.ParentSpanId)).ToList();
        Assert.Equal(bodies.Count, media.Count);
        var runs = spans.Where(s => s.DisplayName == "encoder image").ToList();
        foreach (var item in media)
        {
            var run = Assert.Single(runs, r => r.Links.Any(l => l.Context.SpanId == item.SpanId));
            Assert.Equal(run.Links.Count(), run.GetTagItem("mmserve.batch.size"));
            Assert.NotEqual(item.TraceId, run.TraceId);
        }

        // A run that carried several items links requests of different traces.
        foreach (var run in runs.Where(r => r.Links.Count() > 1 && r.Links.Any(l => media.Any(m => m.SpanId == l.Context.SpanId))))
        {
            Assert.Equal(run.Links.Count(), run.Links.Select(l => l.Context.TraceId).Distinct().Count());
        }

        int CountChats()
        {
            lock (_spans)
            {
                return _spans.Count(s => s.DisplayName == $"chat {Chat.Model}");
            }
        }
    }

    /// <summary>Spans are exported as they stop; the request span stops just before the last bytes are written.</summary>
    private async Task<List<Activity>> WaitForAsync(Func<Activity, bool> condition)
    {
        for (int i = 0; i < 100; i++)
        {
            lock (_spans)
            {
                if (_spans.Any(condition))
                {
                    return [.. _spans];
                }
            }

            await Task.Delay(50);
        }

        lock (_spans)
        {
            return [.. _spans];
        }
    }
}
