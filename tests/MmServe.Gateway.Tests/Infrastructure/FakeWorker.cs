using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MmServe.Gateway.Tests.Infrastructure;

/// <summary>
/// A stand-in for an MmServe worker on real Kestrel: /health/ready, /v1/models and /load as the worker answers them,
/// and POST /v1/chat/completions doing whatever the test says.
/// </summary>
internal sealed class FakeWorker : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeWorker(WebApplication app, string url) => (_app, Url) = (app, url);

    public string Url { get; }

    public string Name => new Uri(Url).Authority;

    /// <summary>The headers of every chat request it received.</summary>
    public ConcurrentQueue<IHeaderDictionary> ChatRequests { get; } = new();

    public volatile bool Ready = true;

    public static async Task<FakeWorker> StartAsync(Func<HttpContext, Task> chat, string model = "m")
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeWorker? worker = null;
        app.MapGet("/health/ready", () => worker!.Ready ? Results.Ok("Healthy") : Results.StatusCode(503));
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = model, @object = "model" } } }));
        app.MapGet("/load", () => Results.Json(new { ready = worker!.Ready, models = new[] { new { id = model, waiting = 0, running = 0, kv_cache_usage = 0.0 } } }));
        app.MapPost("/v1/chat/completions", async context =>
        {
            worker!.ChatRequests.Enqueue(new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value)));
            await chat(context);
        });
        await app.StartAsync();
        worker = new FakeWorker(app, app.Urls.First());
        return worker;
    }

    /// <summary>Stops listening: later connections are refused.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public static Task Json(HttpContext context, string content = "hello") => context.Response.WriteAsJsonAsync(new
    {
        id = "chatcmpl-1",
        @object = "chat.completion",
        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
    });
}
