using System.Diagnostics.Metrics;
using MmServe.Gateway.Routing;
using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Telemetry;

/// <summary>
/// The gateway's own instruments (meter "MmServe.Gateway"; docs/gateway.md lists them): routing decisions, retries,
/// broken streams, the gateway's own error answers, and per worker its health, the requests in flight on it and its
/// last fresh load report. Worker labels are host:port, bounded by the pool.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "MmServe.Gateway";

    private readonly Counter<long> _routed;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _streamFailures;
    private readonly Counter<long> _errors;

    public GatewayMetrics(IMeterFactory meters, WorkerPool pool, RoutingPolicy policy)
    {
        var meter = meters.Create(MeterName);
        _routed = meter.CreateCounter<long>("mmserve.gateway.routed", "{request}", "Forwarding attempts by worker and routing reason (affinity, least_loaded, power_of_two_choices).");
        _retries = meter.CreateCounter<long>("mmserve.gateway.retries", "{request}", "Requests tried again on another worker after a failure before any response byte (transport, unavailable).");
        _streamFailures = meter.CreateCounter<long>("mmserve.gateway.stream_failures", "{request}", "Streams whose worker failed after they had started; they ended with an error event (SSE) or UNAVAILABLE (gRPC).");
        _errors = meter.CreateCounter<long>("mmserve.gateway.errors", "{request}", "Requests the gateway answered itself with an error, by code (no_worker_available, worker_failed, worker_timeout, request_too_large).");
        meter.CreateObservableGauge("mmserve.gateway.worker.healthy", () => pool.Workers.Select(w =>
            new Measurement<int>(w.Healthy ? 1 : 0, new KeyValuePair<string, object?>("worker", w.Name))), "1", "1 while the worker takes requests.");
        meter.CreateObservableGauge("mmserve.gateway.worker.in_flight", () => pool.Workers.Select(w =>
            new Measurement<int>(w.InFlight, new KeyValuePair<string, object?>("worker", w.Name))), "{request}", "Requests the gateway is forwarding to the worker.");
        meter.CreateObservableGauge("mmserve.gateway.worker.load", () => pool.Workers
            .Select(w => (w.Name, Load: policy.FreshLoad(w)))
            .Where(w => w.Load is not null)
            .Select(w => new Measurement<int>(w.Load!.Value, new KeyValuePair<string, object?>("worker", w.Name))),
            "{request}", "The worker's waiting + running requests as routing sees them (fresh reports only).");
    }

    public void Routed(Worker worker, RoutingReason reason) =>
        _routed.Add(1, new("worker", worker.Name), new("reason", reason switch
        {
            RoutingReason.Affinity => "affinity",
            RoutingReason.LeastLoaded => "least_loaded",
            _ => "power_of_two_choices",
        }));

    public void Retried(string reason) => _retries.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void StreamBroke(bool grpc) => _streamFailures.Add(1, new KeyValuePair<string, object?>("api", grpc ? "grpc" : "rest"));

    public void Refused(string code) => _errors.Add(1, new KeyValuePair<string, object?>("code", code));
}
