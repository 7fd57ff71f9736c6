namespace MmServe.Soak.Cli;

/// <summary>What to drive, for how long, and what counts as flat. Defaults are the soak (32 streams, 10 min).</summary>
internal sealed record SoakOptions
{
    public Uri Url { get; init; } = new("http://127.0.0.1:8080");

    public string Model { get; init; } = "mmserve-tiny";

    /// <summary>The server's process id; null: the process listening on the URL's port (loopback only).</summary>
    public int? Pid { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);

    public int Concurrency { get; init; } = 32;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Samples before this are warm-up: the baseline of the growth check is the first one after it.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Each request asks for a uniform number of tokens in [1, MaxTokens].</summary>
    public int MaxTokens { get; init; } = 32;

    public int Seed { get; init; }

    /// <summary>
    /// Audio files for the transcription workload: when set, every request is a /v1/audio/transcriptions upload of one
    /// of them (in turn) to --model (a speech model), instead of a streaming chat.
    /// </summary>
    public IReadOnlyList<string> Audio { get; init; } = [];

    /// <summary>Largest allowed growth of RSS from the baseline to the last sample, in percent.</summary>
    public double MaxGrowthPercent { get; init; } = 5;
}
