namespace MmServe.Gateway.Options;

/// <summary>Configuration section "Gateway" (docs/gateway.md has the table).</summary>
internal sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>A static worker list; leave empty when <see cref="Dns"/> names a headless Service.</summary>
    public List<WorkerEntryOptions> Workers { get; set; } = [];

    public DnsDiscoveryOptions Dns { get; set; } = new();

    public GrpcListenOptions Grpc { get; set; } = new();

    public ActiveHealthCheckOptions HealthCheck { get; set; } = new();

    public LoadOptions Load { get; set; } = new();

    public RoutingOptions Routing { get; set; } = new();

    public ForwardingOptions Forwarding { get; set; } = new();

    /// <summary>How long SIGTERM lets requests in flight finish (the host's shutdown timeout).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The API key the gateway's own requests to workers carry (the health check's /v1/models read, /load), needed when
    /// the workers require keys (their Auth:ApiKeys). Clients' requests are forwarded with their own Authorization
    /// or x-api-key header and are checked by the worker, never by the gateway. Unset: the gateway sends no key.
    /// </summary>
    public string? WorkerApiKey { get; set; }

    /// <summary>Add X-MmServe-Worker (the worker's REST host:port) to every forwarded response; for debugging and tests.</summary>
    public bool WorkerHeader { get; set; }
}

/// <summary>One worker of a static list: its REST base URL and, for gRPC, its h2c base URL.</summary>
internal sealed class WorkerEntryOptions
{
    public string Rest { get; set; } = "";

    public string? Grpc { get; set; }
}

/// <summary>Workers found as the A/AAAA records of one name (a Kubernetes headless Service), re-resolved periodically.</summary>
internal sealed class DnsDiscoveryOptions
{
    public string Name { get; set; } = "";

    public int RestPort { get; set; } = 8080;

    /// <summary>0: the workers serve no gRPC.</summary>
    public int GrpcPort { get; set; } = 8081;

    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The gateway's own gRPC (h2c) listener; REST listens on the hosting URLs (--urls).</summary>
internal sealed class GrpcListenOptions
{
    public bool Enabled { get; set; } = true;

    public string Host { get; set; } = "localhost";

    public int Port { get; set; } = 8081;
}

/// <summary>Active health checks: GET /health/ready on every worker (and its /v1/models once healthy).</summary>
internal sealed class ActiveHealthCheckOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan ModelsRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Load polling: GET /load on every healthy worker.</summary>
internal sealed class LoadOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A report older than this is not used; routing falls back to power of two choices on the gateway's own counts.</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(1);
}

internal sealed class RoutingOptions
{
    /// <summary>
    /// Media affinity holds while the worker that saw the media carries at most this many requests more than the
    /// least-loaded worker of the pool; beyond that it counts as overloaded and load wins.
    /// </summary>
    public int AffinityMaxExtraLoad { get; set; } = 4;

    /// <summary>Media hashes and conversation prefixes remembered (LRU).</summary>
    public int AffinityCapacity { get; set; } = 65536;
}

internal sealed class ForwardingOptions
{
    /// <summary>
    /// How long a forwarded request may go without any byte from the worker (YARP's ActivityTimeout, 100 s by
    /// default): raised so that a long prefill or a queued request is not cut.
    /// </summary>
    public TimeSpan ActivityTimeout { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Request bodies are held (for routing and for one retry) up to this size; larger ones are 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32 * 1024 * 1024;
}
