using System.Text.Json.Serialization;
using MmServe.Serving;
using MmServe.Serving.Models;
using MmServe.Serving.Telemetry;

namespace MmServe.Api.Health;

/// <summary>
/// GET /load: what a load-aware router (src/MmServe.Gateway) polls several times a second — readiness and, per served
/// model, the values of the mmserve_num_requests_waiting / _running and mmserve_kv_cache_usage_perc gauges, in about
/// a hundred bytes. /metrics carries the same numbers inside ~30 KB of histograms and exists only with telemetry on.
/// </summary>
internal static class LoadEndpoint
{
    public const string Path = "/load";

    public static IEndpointRouteBuilder MapLoad(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, (ModelRegistry models, ModelReadiness readiness) =>
                TypedResults.Json(Report(models, readiness), LoadJsonContext.Default.LoadReport))
            .ExcludeFromDescription();
        return endpoints;
    }

    public static LoadReport Report(ModelRegistry models, ModelReadiness readiness) => new(
        readiness.IsReady,
        [.. models.All.Select(m =>
        {
            var load = EngineLoad.Of(m.Engine);
            return new ModelLoad(m.Id, load.Waiting, load.Running, load.KvCacheUsage);
        })]);
}

internal sealed record LoadReport(bool Ready, IReadOnlyList<ModelLoad> Models);

internal sealed record ModelLoad(string Id, int Waiting, int Running, double KvCacheUsage);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(LoadReport))]
internal sealed partial class LoadJsonContext : JsonSerializerContext;
