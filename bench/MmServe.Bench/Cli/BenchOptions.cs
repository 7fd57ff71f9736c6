namespace MmServe.Bench.Cli;

/// <summary>What to send, how fast, and where to write results. Defaults suit the bundled tiny model.</summary>
internal sealed record BenchOptions
{
    public Uri Url { get; init; } = new("http://127.0.0.1:8080");

    public string Model { get; init; } = "mmserve-tiny";

    public int NumRequests { get; init; } = 100;

    /// <summary>Most requests in flight; null: no cap (vLLM's --max-concurrency unset).</summary>
    public int? Concurrency { get; init; }

    /// <summary>Poisson arrivals per second; null: all requests arrive at once (vLLM's request rate "inf").</summary>
    public double? RequestRate { get; init; }

    public int Seed { get; init; }

    public int MaxTokens { get; init; } = 32;

    public double ImageFraction { get; init; } = 0.5;

    public bool IgnoreEos { get; init; }

    public double Temperature { get; init; }

    /// <summary>
    /// Send "return_token_ids" (MmServe extension), so tokens without text (special or media tokens) still arrive
    /// as chunks and are timed; by default only chunks with text count, as in vLLM.
    /// </summary>
    public bool ReturnTokenIds { get; init; }

    /// <summary>Requests sent (and discarded) before the measured run, so first-call costs stay out of it.</summary>
    public int Warmup { get; init; } = 2;

    public string? OutputJson { get; init; }

    /// <summary>Concurrency levels to run the same workload at, in order; null: a single run.</summary>
    public IReadOnlyList<int>? Sweep { get; init; }

    public double RequestTimeoutSeconds { get; init; } = 600;

    /// <summary>The concurrency caps to run: the sweep's levels, or the single configured one.</summary>
    public IReadOnlyList<int?> ConcurrencyLevels => Sweep is { } sweep ? [.. sweep.Select(c => (int?)c)] : [Concurrency];
}
