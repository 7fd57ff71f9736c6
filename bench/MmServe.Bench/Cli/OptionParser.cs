using System.Globalization;

namespace MmServe.Bench.Cli;

/// <summary>Parses "--name value", "--name=value" and bare flags; throws <see cref="OptionException"/> on bad input.</summary>
internal static class OptionParser
{
    public const string Help = """
        MmServe.Bench: a load generator for OpenAI-compatible chat servers, in the manner of vLLM's benchmark_serving.
        Streams POST /v1/chat/completions and reports TTFT, TPOT, ITL, E2E latency and throughput.

        Usage: dotnet run --project bench/MmServe.Bench -c Release -- [options]

          --url URL              server base URL (default http://127.0.0.1:8080)
          --model NAME           model id sent in each request (default mmserve-tiny)
          --num-requests N       measured requests per run (default 100)
          --concurrency C        at most C requests in flight (default: no cap)
          --request-rate R       Poisson arrivals at R req/s, exponential gaps drawn from --seed
                                 (default: all at once; with --concurrency, C still caps requests in flight)
          --sweep LIST           comma-separated concurrency levels, e.g. "1,16": the same workload at each level,
                                 then the ratio of output tok/s of the last level to the first
          --max-tokens N         max_completion_tokens per request (default 32)
          --ignore-eos           send "ignore_eos": true (MmServe extension) so each request makes exactly N tokens
          --return-token-ids     send "return_token_ids": true (MmServe extension) and also count chunks that carry
                                 token ids but no text, so textless tokens are timed too (default: text only, as vLLM)
          --image-fraction F     share of requests carrying a 64x64 PNG (default 0.5)
          --temperature T        sampling temperature (default 0, greedy)
          --seed S               seed for the prompt mix, the images and the arrival times (default 0)
          --warmup N             unmeasured requests sent first (default 2)
          --request-timeout S    seconds before one request counts as failed (default 600)
          --output-json PATH     also write the results (and per-request samples) as JSON
          -h, --help             show this help
        """;

    /// <summary>Null when help was asked for.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inline) = Split(args[i]);
            if (name is "-h" or "--help")
            {
                return null;
            }

            string Value() => inline ?? (++i < args.Count ? args[i] : throw new OptionException($"{name} needs a value."));
            o = name switch
            {
                "--url" => o with { Url = ParseUrl(Value()) },
                "--model" => o with { Model = Value() },
                "--num-requests" => o with { NumRequests = Int(name, Value(), min: 1) },
                "--concurrency" => o with { Concurrency = Int(name, Value(), min: 1) },
                "--request-rate" => o with { RequestRate = Double(name, Value(), min: double.Epsilon, max: double.MaxValue) },
                "--sweep" => o with { Sweep = IntList(name, Value()) },
                "--max-tokens" => o with { MaxTokens = Int(name, Value(), min: 1) },
                "--ignore-eos" => inline is null ? o with { IgnoreEos = true } : throw new OptionException($"{name} takes no value."),
                "--return-token-ids" => inline is null ? o with { ReturnTokenIds = true } : throw new OptionException($"{name} takes no value."),
                "--image-fraction" => o with { ImageFraction = Double(name, Value(), min: 0, max: 1) },
                "--temperature" => o with { Temperature = Double(name, Value(), min: 0, max: 2) },
                "--seed" => o with { Seed = Int(name, Value(), min: int.MinValue) },
                "--warmup" => o with { Warmup = Int(name, Value(), min: 0) },
                "--request-timeout" => o with { RequestTimeoutSeconds = Double(name, Value(), min: 1, max: 86400) },
                "--output-json" => o with { OutputJson = Value() },
                _ => throw new OptionException($"Unknown option '{args[i]}'."),
            };
        }

        if (o.Sweep is not null && o.Concurrency is not null)
        {
            throw new OptionException("--sweep sets the concurrency of each run; leave out --concurrency.");
        }

        return o;
    }

    private static (string Name, string? Inline) Split(string arg)
    {
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
    }

    private static Uri ParseUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new OptionException($"--url must be an absolute http(s) URL, got '{value}'.");

    private static int Int(string name, string value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new OptionException($"{name} must be an integer >= {min}, got '{value}'.");

    private static double Double(string name, string value, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= min && d <= max
            ? d
            : throw new OptionException($"{name} must be a number in [{min}, {max}], got '{value}'.");

    private static int[] IntList(string name, string value)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts.Length > 0
            ? [.. parts.Select(p => Int(name, p, min: 1))]
            : throw new OptionException($"{name} needs at least one concurrency level.");
    }
}
