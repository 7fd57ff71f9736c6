using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using MmServe.Gateway.Tests.Infrastructure;

namespace MmServe.Gateway.Tests.Forwarding;

/// <summary>The gateway in front of fake workers on real Kestrel: retries, broken streams, streaming, limits, tracing.</summary>
public sealed class GatewayForwarderTests
{
    private const string Route = "v1/chat/completions";

    /// <summary>Health checks only at start, so a worker the test stops is still believed healthy until a request fails on it.</summary>
    private static readonly Dictionary<string, string?> NoFurtherHealthChecks = new() { ["Gateway:HealthCheck:Interval"] = "01:00:00" };

    private static StringContent Body(string model = "m", bool stream = false) => new(
        $$"""{"model": "{{model}}", "stream": {{(stream ? "true" : "false")}}, "messages": [{"role": "user", "content": "hi"}]}""",
        Encoding.UTF8, "application/json");

    private static string? WorkerOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-MmServe-Worker", out var values) ? values.Single() : null;

    [Fact]
    public async Task RefusedConnection_IsRetriedOnTheOtherWorker_AndTheDeadWorkerLeavesRouting()
    {
        await using var alive = await FakeWorker.StartAsync(c => FakeWorker.Json(c, "from alive"));
        var dead = await FakeWorker.StartAsync(c => FakeWorker.Json(c, "never"));
        await using var gateway = await GatewayHost.StartAsync([alive.Url, dead.Url], NoFurtherHealthChecks);
        var deadWorker = gateway.Worker(dead);
        await dead.DisposeAsync();

        // The gateway's own requests in flight on the live worker make the dead one the first choice.
        var aliveWorker = gateway.Worker(alive).WithInFlight(5);
        using var response = await gateway.Client.PostAsync(Route, Body());
        for (int i = 0; i < 5; i++)
        {
            aliveWorker.Leave();
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("from alive", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(alive.Name, WorkerOf(response));
        Assert.False(deadWorker.Healthy);
    }

    [Fact]
    public async Task Worker503WhileDraining_IsRetriedOnTheOtherWorker()
    {
        await using var draining = await FakeWorker.StartAsync(async c =>
        {
            c.Response.StatusCode = 503;
            await c.Response.WriteAsync("""{"error": {"message": "shutting down", "type": "server_error", "param": null, "code": "unavailable"}}""");
        });
        await using var alive = await FakeWorker.StartAsync(c => FakeWorker.Json(c));
        await using var gateway = await GatewayHost.StartAsync([draining.Url, alive.Url], NoFurtherHealthChecks);
        gateway.Worker(alive).WithInFlight(5);

        using var response = await gateway.Client.PostAsync(Route, Body());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(alive.Name, WorkerOf(response));
        Assert.Single(draining.ChatRequests);
        Assert.False(gateway.Worker(draining).Healthy);
    }

    [Fact]
    public async Task WhenEveryWorkerFails_TheClientGetsA502InOpenAisShape()
    {
        var a = await FakeWorker.StartAsync(c => FakeWorker.Json(c));
        var b = await FakeWorker.StartAsync(c => FakeWorker.Json(c));
        await using var gateway = await GatewayHost.StartAsync([a.Url, b.Url], NoFurtherHealthChecks);
        await a.DisposeAsync();
        await b.DisposeAsync();

        using var response = await gateway.Client.PostAsync(Route, Body());

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("worker_failed", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("server_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task NoReadyWorker_Is503WithRetryAfter_AndTheGatewayIsNotReady()
    {
        await using var warming = await FakeWorker.StartAsync(c => FakeWorker.Json(c));
        warming.Ready = false;
        await using var gateway = await GatewayHost.StartAsync([warming.Url], waitHealthy: false);

        using var response = await gateway.Client.PostAsync(Route, Body());
        using var ready = await gateway.Client.GetAsync("health/ready");
        using var live = await gateway.Client.GetAsync("health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("no_worker_available", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Empty(warming.ChatRequests);
    }

    [Fact]
    public async Task SseIsStreamedThrough_EventByEvent()
    {
        var secondMayGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = await FakeWorker.StartAsync(async c =>
        {
            c.Response.ContentType = "text/event-stream";
            await c.Response.WriteAsync("data: {\"n\":1}\n\n");
            await c.Response.Body.FlushAsync();
            await secondMayGo.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await c.Response.WriteAsync("data: {\"n\":2}\n\ndata: [DONE]\n\n");
        });
        await using var gateway = await GatewayHost.StartAsync([worker.Url]);

        using var response = await SendStreamingAsync(gateway.Client);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // The first event arrives while the worker still holds back the second: nothing buffers the stream.
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("data: {\"n\":1}", first);
        secondMayGo.SetResult();
        Assert.Equal("\ndata: {\"n\":2}\n\ndata: [DONE]\n\n", await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task SseStreamWhoseWorkerDies_EndsWithAnErrorEvent_NotAHang()
    {
        await using var worker = await FakeWorker.StartAsync(async c =>
        {
            c.Response.ContentType = "text/event-stream";
            await c.Response.WriteAsync("data: {\"n\":1}\n\ndata: {\"n\":");
            await c.Response.Body.FlushAsync();
            await Task.Delay(100);
            c.Abort();
        });
        await using var gateway = await GatewayHost.StartAsync([worker.Url], NoFurtherHealthChecks);

        using var response = await SendStreamingAsync(gateway.Client);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, events.Length);
        Assert.Equal("data: {\"n\":1}", events[0]);
        using var error = JsonDocument.Parse(events[1]["data: ".Length..]);
        Assert.Equal("worker_failed", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.False(gateway.Worker(worker).Healthy);
    }

    [Fact]
    public async Task StreamThatBreaksBeforeItsFirstEvent_IsRetriedOnTheOtherWorker()
    {
        await using var broken = await FakeWorker.StartAsync(async c =>
        {
            c.Response.ContentType = "text/event-stream";
            await c.Response.StartAsync(); // headers only, then the worker dies
            await Task.Delay(50);
            c.Abort();
        });
        await using var alive = await FakeWorker.StartAsync(async c =>
        {
            c.Response.ContentType = "text/event-stream";
            await c.Response.WriteAsync("data: {\"n\":1}\n\ndata: [DONE]\n\n");
        });
        await using var gateway = await GatewayHost.StartAsync([broken.Url, alive.Url], NoFurtherHealthChecks);
        gateway.Worker(alive).WithInFlight(5);

        using var response = await SendStreamingAsync(gateway.Client);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("data: {\"n\":1}\n\ndata: [DONE]\n\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(alive.Name, WorkerOf(response));
        Assert.Single(broken.ChatRequests);
    }

    [Fact]
    public async Task RequestsGoToTheWorkersOfTheirModel()
    {
        await using var tiny = await FakeWorker.StartAsync(c => FakeWorker.Json(c), model: "tiny");
        await using var llava = await FakeWorker.StartAsync(c => FakeWorker.Json(c), model: "llava");
        await using var gateway = await GatewayHost.StartAsync([tiny.Url, llava.Url]);

        for (int i = 0; i < 6; i++)
        {
            using var response = await gateway.Client.PostAsync(Route, Body(i % 2 == 0 ? "tiny" : "llava"));
            Assert.Equal(i % 2 == 0 ? tiny.Name : llava.Name, WorkerOf(response));
        }
    }

    [Fact]
    public async Task BodyOverTheLimit_Is413_AndNeverReachesAWorker()
    {
        await using var worker = await FakeWorker.StartAsync(c => FakeWorker.Json(c));
        await using var gateway = await GatewayHost.StartAsync([worker.Url], new Dictionary<string, string?> { ["Gateway:Forwarding:MaxRequestBodyBytes"] = "1000" });

        using var small = await gateway.Client.PostAsync(Route, Body());
        using var large = await gateway.Client.PostAsync(Route, new StringContent(
            $$"""{"model": "m", "messages": [{"role": "user", "content": "{{new string('x', 2000)}}"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        using var json = JsonDocument.Parse(await large.Content.ReadAsStringAsync());
        Assert.Equal("request_too_large", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Single(worker.ChatRequests);
    }

    [Fact]
    public async Task TheWorkerContinuesTheClientsTrace()
    {
        await using var worker = await FakeWorker.StartAsync(c => FakeWorker.Json(c));
        await using var gateway = await GatewayHost.StartAsync([worker.Url]);
        var traceId = ActivityTraceId.CreateRandom();
        var clientSpan = ActivitySpanId.CreateRandom();

        using var request = new HttpRequestMessage(HttpMethod.Post, Route) { Content = Body() };
        request.Headers.Add("traceparent", $"00-{traceId}-{clientSpan}-01");
        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(worker.ChatRequests);
        var traceparent = Assert.Single(received["traceparent"].ToArray())!;
        var parts = traceparent.Split('-');
        Assert.Equal(traceId.ToHexString(), parts[1]);
        Assert.NotEqual(clientSpan.ToHexString(), parts[2]); // the gateway's own span sits in between
    }

    private static Task<HttpResponseMessage> SendStreamingAsync(HttpClient client)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Route) { Content = Body(stream: true) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }
}
