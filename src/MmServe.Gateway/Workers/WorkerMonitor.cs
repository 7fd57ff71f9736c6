using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using MmServe.Gateway.Options;

namespace MmServe.Gateway.Workers;

/// <summary>
/// Active checks of every worker, on two clocks: GET /health/ready each HealthCheck:Interval (a worker joins routing
/// only after it answers 200 and its /v1/models has been read, and leaves it on any other answer), and GET /load of
/// each healthy worker each Load:Interval — its waiting + running requests for load-aware routing, and its
/// readiness, so a draining worker (SIGTERM: /load says ready=false) stops receiving requests within one load
/// interval. Passive marks come from the forwarder (a transport failure marks the worker unhealthy until the next
/// health check passes).
/// </summary>
internal sealed partial class WorkerMonitor(
    WorkerPool pool, IOptions<GatewayOptions> options, TimeProvider time, ILogger<WorkerMonitor> logger) : BackgroundService
{
    /// <summary>Set on the monitor's own requests so that tracing leaves them out.</summary>
    public static readonly HttpRequestOptionsKey<bool> ProbeOption = new("MmServe.Gateway.Probe");

    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = options.Value.HealthCheck.Timeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(
        RunEveryAsync(options.Value.HealthCheck.Interval, () => Task.WhenAll(pool.Workers.Select(w => CheckHealthAsync(w, stoppingToken))), stoppingToken),
        RunEveryAsync(options.Value.Load.Interval, () => Task.WhenAll(pool.Workers.Where(w => w.Healthy).Select(w => PollLoadAsync(w, stoppingToken))), stoppingToken));

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }

    /// <summary>One active health check: /health/ready, then /v1/models when they are unknown or old.</summary>
    public async Task CheckHealthAsync(Worker worker, CancellationToken ct)
    {
        var settings = options.Value.HealthCheck;
        string? failure;
        try
        {
            using var response = await GetAsync(worker, "/health/ready", ct).ConfigureAwait(false);
            failure = response.StatusCode == HttpStatusCode.OK ? null : $"/health/ready answered {(int)response.StatusCode}";
            if (failure is null && (worker.Models is null || time.GetElapsedTime(worker.ModelsFetchedAt) > settings.ModelsRefreshInterval))
            {
                failure = await FetchModelsAsync(worker, ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            failure = e is OperationCanceledException ? "/health/ready timed out" : e.Message;
        }

        if (ct.IsCancellationRequested)
        {
            return;
        }

        if (worker.SetHealthy(failure is null))
        {
            if (failure is null)
            {
                Log.Healthy(logger, worker.Name, string.Join(", ", worker.Models ?? new HashSet<string>()));
            }
            else
            {
                Log.Unhealthy(logger, worker.Name, failure);
            }
        }
    }

    /// <summary>One load poll.</summary>
    public async Task PollLoadAsync(Worker worker, CancellationToken ct)
    {
        try
        {
            using var response = await GetAsync(worker, "/load", ct).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return;
            }

            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), cancellationToken: ct).ConfigureAwait(false);
            var root = json.RootElement;
            if (root.TryGetProperty("ready", out var ready) && ready.ValueKind == JsonValueKind.False)
            {
                if (worker.SetHealthy(false))
                {
                    Log.Unhealthy(logger, worker.Name, "/load reports not ready (draining or warming up)");
                }

                return;
            }

            int total = 0;
            foreach (var model in root.GetProperty("models").EnumerateArray())
            {
                total += model.GetProperty("waiting").GetInt32() + model.GetProperty("running").GetInt32();
            }

            worker.ReportLoad(total, time.GetTimestamp());
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // No fresh sample: once the last one is older than Load:StaleAfter, routing uses power of two choices.
            Log.LoadFailed(logger, worker.Name, e.Message);
        }
    }

    private async Task<string?> FetchModelsAsync(Worker worker, CancellationToken ct)
    {
        using var response = await GetAsync(worker, "/v1/models", ct).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return $"/v1/models answered {(int)response.StatusCode}";
        }

        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), cancellationToken: ct).ConfigureAwait(false);
        var models = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in json.RootElement.GetProperty("data").EnumerateArray())
        {
            models.Add(model.GetProperty("id").GetString() ?? "");
        }

        worker.SetModels(models, time.GetTimestamp());
        return null;
    }

    private async Task<HttpResponseMessage> GetAsync(Worker worker, string path, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.HealthCheck.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, worker.Address.Rest + path);
        request.Options.Set(ProbeOption, true);
        if (!string.IsNullOrEmpty(options.Value.WorkerApiKey))
        {
            // A worker with keys on answers /v1/models (which it must for routing by model) only with a key.
            request.Headers.Authorization = new("Bearer", options.Value.WorkerApiKey);
        }

        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        return response;
    }

    private async Task RunEveryAsync(TimeSpan interval, Func<Task> round, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await round().ConfigureAwait(false);
            try
            {
                await Task.Delay(interval, time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Worker {Worker} is healthy; it serves {Models}.")]
        public static partial void Healthy(ILogger logger, string worker, string models);

        [LoggerMessage(2, LogLevel.Warning, "Worker {Worker} is unhealthy: {Reason}.")]
        public static partial void Unhealthy(ILogger logger, string worker, string reason);

        [LoggerMessage(3, LogLevel.Debug, "Worker {Worker}: /load failed: {Reason}.")]
        public static partial void LoadFailed(ILogger logger, string worker, string reason);
    }
}
