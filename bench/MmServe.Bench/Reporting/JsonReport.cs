using System.Text.Json;
using MmServe.Bench.Cli;
using MmServe.Bench.Running;
using MmServe.Bench.Stats;

namespace MmServe.Bench.Reporting;

/// <summary>
/// Writes the results with vLLM's result-file key names (duration, completed, mean_ttft_ms, ..., ttfts, itls in
/// seconds), one object per run under "runs", so existing vLLM plotting scripts need little change.
/// </summary>
internal static class JsonReport
{
    public static void Write(string path, BenchOptions o, IReadOnlyList<(RunResult Run, BenchMetrics Metrics)> levels)
    {
        using var file = File.Create(path);
        using var w = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("date", DateTimeOffset.UtcNow.ToString("O"));
        w.WriteString("backend", "openai-chat");
        w.WriteString("base_url", o.Url.ToString());
        w.WriteString("model_id", o.Model);
        w.WriteNumber("num_prompts", o.NumRequests);
        w.WriteNumber("max_tokens", o.MaxTokens);
        w.WriteBoolean("ignore_eos", o.IgnoreEos);
        w.WriteBoolean("return_token_ids", o.ReturnTokenIds);
        w.WriteNumber("image_fraction", o.ImageFraction);
        w.WriteNumber("temperature", o.Temperature);
        w.WriteNumber("seed", o.Seed);
        w.WriteNumber("warmup", o.Warmup);
        if (SweepSummary.Ratio(levels) is { } ratio)
        {
            w.WriteNumber("output_throughput_ratio_last_vs_first", ratio);
        }

        w.WriteStartArray("runs");
        foreach (var (run, m) in levels)
        {
            WriteRun(w, run, m);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteRun(Utf8JsonWriter w, RunResult run, BenchMetrics m)
    {
        w.WriteStartObject();
        if (run.MaxConcurrency is { } c)
        {
            w.WriteNumber("max_concurrency", c);
        }
        else
        {
            w.WriteNull("max_concurrency");
        }

        if (run.RequestRate is { } r)
        {
            w.WriteNumber("request_rate", r);
        }
        else
        {
            w.WriteString("request_rate", "inf");
        }

        w.WriteNumber("duration", m.DurationSeconds);
        w.WriteNumber("completed", m.Completed);
        w.WriteNumber("failed", m.Failed);
        w.WriteNumber("total_input_tokens", m.TotalInputTokens);
        w.WriteNumber("total_output_tokens", m.TotalOutputTokens);
        w.WriteNumber("request_throughput", m.RequestThroughput);
        w.WriteNumber("output_throughput", m.OutputThroughput);
        w.WriteNumber("total_token_throughput", m.TotalTokenThroughput);
        w.WriteNumber("max_concurrent_requests", run.PeakInFlight);
        Stats(w, "ttft", m.Ttft);
        Stats(w, "tpot", m.Tpot);
        Stats(w, "itl", m.Itl);
        Stats(w, "e2el", m.E2el);

        // Per-request samples in request order, as vLLM saves them (seconds; failed requests included).
        var requests = run.Requests;
        Array(w, "input_lens", requests.Select(q => (double)q.PromptTokens));
        Array(w, "output_lens", requests.Select(q => (double)q.CompletionTokens));
        Array(w, "ttfts", requests.Select(q => q.Ttft));
        Array(w, "latencies", requests.Select(q => q.Latency));
        w.WriteStartArray("itls");
        foreach (var q in requests)
        {
            Array(w, null, q.Itls);
        }

        w.WriteEndArray();
        w.WriteStartArray("has_image");
        foreach (var q in requests)
        {
            w.WriteBooleanValue(q.HasImage);
        }

        w.WriteEndArray();
        w.WriteStartArray("errors");
        foreach (var q in requests)
        {
            w.WriteStringValue(q.Error ?? "");
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Stats(Utf8JsonWriter w, string name, LatencyStats s)
    {
        w.WriteNumber($"mean_{name}_ms", s.MeanMs);
        w.WriteNumber($"median_{name}_ms", s.MedianMs);
        w.WriteNumber($"p99_{name}_ms", s.P99Ms);
    }

    private static void Array(Utf8JsonWriter w, string? name, IEnumerable<double> values)
    {
        if (name is null)
        {
            w.WriteStartArray();
        }
        else
        {
            w.WriteStartArray(name);
        }

        foreach (var v in values)
        {
            w.WriteNumberValue(v);
        }

        w.WriteEndArray();
    }
}
