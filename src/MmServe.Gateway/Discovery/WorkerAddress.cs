namespace MmServe.Gateway.Discovery;

/// <summary>Where a worker answers: its REST base URL and, when it serves gRPC, its h2c base URL.</summary>
/// <param name="Rest">e.g. http://10.0.0.5:8080 (no trailing slash).</param>
/// <param name="Grpc">e.g. http://10.0.0.5:8081, or null.</param>
internal sealed record WorkerAddress(string Rest, string? Grpc)
{
    /// <summary>host:port of the REST URL: the worker's name in logs, metrics and X-MmServe-Worker.</summary>
    public string Name => new Uri(Rest).Authority;

    public static WorkerAddress Create(string rest, string? grpc) =>
        new(rest.TrimEnd('/'), string.IsNullOrWhiteSpace(grpc) ? null : grpc.TrimEnd('/'));
}
