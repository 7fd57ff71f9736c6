using System.Globalization;

namespace MmServe.Soak.Cli;

/// <summary>Parses "--name value" and "--name=value"; throws <see cref="OptionException"/> on bad input.</summary>
internal static class OptionParser
{
    public const string Help = """
        MmServe.Soak: holds a server under steady mixed load and watches its memory.
        C concurrent streaming chat completions, half text and half with a unique PNG (32-96 px a side, so every
        image misses the encoder cache and fills it), for a fixed duration. Every interval it prints the server's
        RSS (/proc/<pid>/status), its managed heap and GC-committed bytes and the encoder cache's bytes (from the
        server's /metrics), and native memory estimated as RSS minus GC-committed. At the end it checks that RSS
        grew by at most --max-growth percent from the first sample after --warmup to the last. Linux only.

        Usage: dotnet run --project bench/MmServe.Soak -c Release -- [options]

          --url URL              server base URL (default http://127.0.0.1:8080)
          --model NAME           model id sent in each request (default mmserve-tiny)
          --pid PID              the server's process id (default: the local process listening on the URL's port)
          --duration D           how long to drive load, e.g. 600, 600s, 10m (default 10m)
          --concurrency C        streams in flight at all times (default 32)
          --interval D           sampling interval (default 30s)
          --warmup D             samples before this are not the baseline (default 2m)
          --max-tokens N         each request asks for 1..N tokens, uniformly (default 32)
          --max-growth P         allowed RSS growth after warm-up, percent (default 5)
          --seed S               seed for prompts, image sizes and pixels (default 0)
          --audio F1[,F2...]     transcription workload instead: each request uploads one of these files in turn
                                 to /v1/audio/transcriptions with --model (a speech model, e.g. tiny-whisper)
          -h, --help             show this help

        Exit code: 0 flat, 1 grew more than allowed or requests failed, 2 bad command line or no server.
        """;

    /// <summary>Null when help was asked for.</summary>
    public static SoakOptions? Parse(IReadOnlyList<string> args)
    {
        var o = new SoakOptions();
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
                "--pid" => o with { Pid = Int(name, Value(), min: 1) },
                "--duration" => o with { Duration = Duration(name, Value()) },
                "--concurrency" => o with { Concurrency = Int(name, Value(), min: 1) },
                "--interval" => o with { Interval = Duration(name, Value()) },
                "--warmup" => o with { Warmup = Duration(name, Value(), allowZero: true) },
                "--max-tokens" => o with { MaxTokens = Int(name, Value(), min: 1) },
                "--max-growth" => o with { MaxGrowthPercent = Double(name, Value(), min: 0) },
                "--seed" => o with { Seed = Int(name, Value(), min: int.MinValue) },
                "--audio" => o with { Audio = Files(name, Value()) },
                _ => throw new OptionException($"Unknown option '{args[i]}'."),
            };
        }

        return o.Warmup >= o.Duration
            ? throw new OptionException("--warmup must be shorter than --duration, or nothing is measured after it.")
            : o;
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

    private static string[] Files(string name, string value)
    {
        var files = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return files.Length > 0 && files.All(File.Exists)
            ? files
            : throw new OptionException($"{name} must name existing files, comma-separated, got '{value}'.");
    }

    private static int Int(string name, string value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new OptionException($"{name} must be an integer >= {min}, got '{value}'.");

    private static double Double(string name, string value, double min) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= min
            ? d
            : throw new OptionException($"{name} must be a number >= {min}, got '{value}'.");

    /// <summary>Seconds, or a number with s, m or h.</summary>
    private static TimeSpan Duration(string name, string value, bool allowZero = false)
    {
        var (number, unit) = value.Length > 0 && char.IsLetter(value[^1]) ? (value[..^1], value[^1]) : (value, 's');
        var seconds = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 };
        return seconds > 0
            && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            && (n > 0 || (allowZero && n == 0))
            ? TimeSpan.FromSeconds(n * seconds)
            : throw new OptionException($"{name} must be a duration such as 90, 90s, 10m or 1h, got '{value}'.");
    }
}
