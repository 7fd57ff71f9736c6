using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MmServe.FunctionalTests.Infrastructure;
using OpenTelemetry.Trace;

namespace MmServe.FunctionalTests.Telemetry;

/// <summary>
/// Without an OTLP endpoint or Telemetry:Traces=true the server records no spans (a server nobody traces must not pay
/// for them): an exporter added in code receives nothing, while the metrics still count the request.
/// </summary>
public sealed class TracesOffByDefaultTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private readonly MmServeFactory _factory;

    public TracesOffByDefaultTests() =>
        _factory = new MmServeFactory(services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)));

    public Task InitializeAsync() => _factory.StartAndWaitReadyAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task ARequestWithATraceparent_RecordsNoSpans_ButIsCounted()
    {
        using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = _factory.BaseAddress };
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat.Route) { Content = new StringContent(Chat.Request("Hello!").ToJsonString(), System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var metrics = await client.GetStringAsync("/metrics");
        Assert.Matches(@"mmserve_request_success_total\{[^}]*\} [1-9]", metrics);
        lock (_spans)
        {
            Assert.DoesNotContain(_spans, s => s.TraceId == traceId);
        }
    }
}
