using System.Diagnostics.Metrics;
using MmServe.Abstractions;
using MmServe.Serving.Errors;

namespace MmServe.Serving.Telemetry;

/// <summary>
/// MmServe's own instruments, in two vocabularies (docs/observability.md): the OpenTelemetry GenAI semantic
/// conventions (gen_ai.*) and the engine metrics inference routers and autoscalers read (mmserve.*, one-to-one with
/// vLLM's vllm:*). Every series is labelled by served model id only: no request ids or client strings, so label
/// sets stay bounded. Recorded from one place, the request path in <see cref="Sessions.GenerationService"/>.
/// </summary>
public sealed class ServingMetrics
{
    public const string MeterName = "MmServe";

    /// <summary>The label value of requests naming a model this server does not serve (bounded, unlike the name itself).</summary>
    public const string UnknownModel = "unknown";

    private const string Operation = "chat";
    private const string Provider = "mmserve";

    // Buckets of the GenAI conventions and of vLLM (shared/reference/operations.md).
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly double[] TtftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    private static readonly double[] TpotBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
    private static readonly double[] ItlBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    private readonly Histogram<double> _genAiDuration;
    private readonly Histogram<double> _genAiTtft;
    private readonly Histogram<double> _genAiTpot;
    private readonly Histogram<long> _genAiTokens;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _generationTokens;
    private readonly Counter<long> _success;
    private readonly Counter<long> _errors;
    private readonly Histogram<double> _ttft;
    private readonly Histogram<double> _itl;
    private readonly Histogram<double> _tpot;
    private readonly Histogram<double> _e2e;
    private readonly Histogram<double> _decode;
    private readonly Histogram<double> _queue;
    private readonly Histogram<double> _prefill;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<int> _iterationTokens;
    private readonly Histogram<double> _mediaDecode;
    private readonly List<(string Model, Media.EncoderOutputCache Cache)> _caches = [];

    public ServingMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        _genAiDuration = Meter.CreateHistogram("gen_ai.server.request.duration", "s", "Generative AI server request duration, time to last byte or the error.", advice: Buckets(DurationBuckets));
        _genAiTtft = Meter.CreateHistogram("gen_ai.server.time_to_first_token", "s", "Time to generate the first token of a successful response.", advice: Buckets(TtftBuckets));
        _genAiTpot = Meter.CreateHistogram("gen_ai.server.time_per_output_token", "s", "Time per output token after the first, of a successful response.", advice: Buckets(TpotBuckets));
        _genAiTokens = Meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Input and output tokens of a successful response.", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _promptTokens = Meter.CreateCounter<long>("mmserve.prompt_tokens", "{token}", "Prompt tokens of finished requests (media placeholders included).");
        _generationTokens = Meter.CreateCounter<long>("mmserve.generation_tokens", "{token}", "Generated tokens of finished requests.");
        _success = Meter.CreateCounter<long>("mmserve.request_success", "{request}", "Requests that finished, by finish reason (stop, length, abort).");
        _errors = Meter.CreateCounter<long>("mmserve.request_errors", "{request}", "Requests refused or failed, by error kind and code (invalid_request/…, queue_full → 429, unavailable → 503).");
        _ttft = Meter.CreateHistogram("mmserve.time_to_first_token", "s", "Submission to the first generated token (queue + media + prefill).", advice: Buckets(TtftBuckets));
        _itl = Meter.CreateHistogram("mmserve.inter_token_latency", "s", "Time between consecutive generated tokens.", advice: Buckets(ItlBuckets));
        _tpot = Meter.CreateHistogram("mmserve.request_time_per_output_token", "s", "Mean time per output token after the first, per request.", advice: Buckets(TpotBuckets));
        _e2e = Meter.CreateHistogram("mmserve.e2e_request_latency", "s", "Request start (after validation) to its last event.", advice: Buckets(LatencyBuckets));
        _decode = Meter.CreateHistogram("mmserve.request_decode_time", "s", "First token to the last, per request.", advice: Buckets(LatencyBuckets));
        _queue = Meter.CreateHistogram("mmserve.request_queue_time", "s", "Submission to the engine until its prefill is scheduled.", advice: Buckets(LatencyBuckets));
        _prefill = Meter.CreateHistogram("mmserve.request_prefill_time", "s", "Prefill scheduled until the first token is sampled.", advice: Buckets(LatencyBuckets));
        _batchSize = Meter.CreateHistogram<int>("mmserve.component_batch_size", "{item}", "Items per batched ORT run of an encoder or generator.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64] });
        _iterationTokens = Meter.CreateHistogram<int>("mmserve.iteration_tokens", "{token}", "Tokens per engine step (prefill and decode rows of one forward pass).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384] });
        _mediaDecode = Meter.CreateHistogram("mmserve.media_decode_time", "s", "Reading, decoding and preprocessing one media item (cache hits included).", advice: Buckets(LatencyBuckets));
        Meter.CreateObservableCounter("mmserve.encoder_cache_queries", () => Caches(c => c.Hits + c.Misses), "{item}", "Media items looked up in the encoder-output cache.");
        Meter.CreateObservableCounter("mmserve.encoder_cache_hits", () => Caches(c => c.Hits), "{item}", "Media items whose encoder output came from the cache.");
        // A soak reads this to tell the cache filling up (bounded by Media:EncoderCache:MaxBytes) from a leak.
        Meter.CreateObservableGauge("mmserve.encoder_cache_usage", () => Caches(c => c.Bytes), "By", "Bytes the encoder-output cache holds.");
    }

    public Meter Meter { get; }

    /// <summary>
    /// The engine gauges routers and autoscalers read, observed at each collection from every served model:
    /// requests running, requests waiting (queued for admission or for their prefill), and KV slot occupancy 0–1
    /// (running sequences over the executors' rows: the share of the cache in use, as sequences hold a row each).
    /// </summary>
    public void ObserveEngines(Func<IEnumerable<(string Model, Engine.IGenerationEngine Engine)>> engines)
    {
        Meter.CreateObservableGauge("mmserve.num_requests_running", () => engines().Select(e => new Measurement<int>(
            EngineLoad.Of(e.Engine).Running, new KeyValuePair<string, object?>("model", e.Model))), "{request}", "Requests in a running batch.");
        Meter.CreateObservableGauge("mmserve.num_requests_waiting", () => engines().Select(e => new Measurement<int>(
            EngineLoad.Of(e.Engine).Waiting, new KeyValuePair<string, object?>("model", e.Model))), "{request}", "Requests admitted but not running yet (queued or waiting for their prefill).");
        Meter.CreateObservableGauge("mmserve.kv_cache_usage_perc", () => engines().Select(e => new Measurement<double>(
            EngineLoad.Of(e.Engine).KvCacheUsage, new KeyValuePair<string, object?>("model", e.Model))), "1", "KV cache rows in use, 0 to 1.");
    }

    /// <summary>A request the server refused or that failed, before or after admission.</summary>
    public void Refused(string model, ServingError error, TimeSpan duration)
    {
        var kind = ErrorType(error);
        _errors.Add(1, new("model", model), new("error_type", kind), new("code", error.Code ?? "internal"));
        _genAiDuration.Record(duration.TotalSeconds, GenAi(model, kind));
    }

    /// <summary>A finished generation (not cancelled).</summary>
    /// <param name="firstToken">Submission to the first token, or null when none was generated.</param>
    public void Finished(string model, FinishReason reason, int promptTokens, int completionTokens, TimeSpan duration, TimeSpan? firstToken)
    {
        var modelTag = new KeyValuePair<string, object?>("model", model);
        _promptTokens.Add(promptTokens, modelTag);
        _generationTokens.Add(completionTokens, modelTag);
        _success.Add(1, modelTag, new("finished_reason", Sessions.FinishReasonNames.Of(reason)));
        _e2e.Record(duration.TotalSeconds, modelTag);
        var genAi = GenAi(model, null);
        _genAiDuration.Record(duration.TotalSeconds, genAi);
        _genAiTokens.Record(promptTokens, [.. genAi, new("gen_ai.token.type", "input")]);
        _genAiTokens.Record(completionTokens, [.. genAi, new("gen_ai.token.type", "output")]);
        if (firstToken is not { } ttft)
        {
            return;
        }

        _ttft.Record(ttft.TotalSeconds, modelTag);
        _genAiTtft.Record(ttft.TotalSeconds, genAi);
        var decode = duration - ttft;
        _decode.Record(decode.TotalSeconds, modelTag);
        if (completionTokens > 1)
        {
            var tpot = decode.TotalSeconds / (completionTokens - 1);
            _tpot.Record(tpot, modelTag);
            _genAiTpot.Record(tpot, genAi);
        }
    }

    /// <summary>Reports a model's encoder-output cache in the cache counters.</summary>
    public void ObserveEncoderCache(string model, Media.EncoderOutputCache cache)
    {
        lock (_caches)
        {
            _caches.Add((model, cache));
        }
    }

    /// <summary>One batched run of <paramref name="component"/> ("encoder" or "generator") for <paramref name="modality"/>.</summary>
    public void ComponentRun(string model, string component, string modality, int items) =>
        _batchSize.Record(items, new("model", model), new("component", component), new("modality", modality));

    /// <summary>One engine step of <paramref name="model"/> ran <paramref name="tokens"/> tokens.</summary>
    public void EngineStep(string model, int tokens) => _iterationTokens.Record(tokens, new KeyValuePair<string, object?>("model", model));

    /// <summary>One media item read, decoded and preprocessed (or found in the cache).</summary>
    public void MediaDecoded(string model, string modality, TimeSpan duration) =>
        _mediaDecode.Record(duration.TotalSeconds, new("model", model), new("modality", modality));

    private IEnumerable<Measurement<long>> Caches(Func<Media.EncoderOutputCache, long> value)
    {
        lock (_caches)
        {
            return [.. _caches.Select(c => new Measurement<long>(value(c.Cache), new KeyValuePair<string, object?>("model", c.Model)))];
        }
    }

    /// <summary>The engine's stages of a finished request.</summary>
    public void EngineStages(string model, TimeSpan queue, TimeSpan? prefill)
    {
        var modelTag = new KeyValuePair<string, object?>("model", model);
        _queue.Record(queue.TotalSeconds, modelTag);
        if (prefill is { } p)
        {
            _prefill.Record(p.TotalSeconds, modelTag);
        }
    }

    /// <summary>The gap between two consecutive generated tokens.</summary>
    public void InterToken(string model, TimeSpan gap) =>
        _itl.Record(gap.TotalSeconds, new KeyValuePair<string, object?>("model", model));

    private static KeyValuePair<string, object?>[] GenAi(string model, string? errorType) => errorType is null
        ? [new("gen_ai.operation.name", Operation), new("gen_ai.provider.name", Provider), new("gen_ai.request.model", model)]
        : [new("gen_ai.operation.name", Operation), new("gen_ai.provider.name", Provider), new("gen_ai.request.model", model), new("error.type", errorType)];

    /// <summary>A bounded error type: the kind, lower-snake ("invalid_request", "overloaded"...).</summary>
    private static string ErrorType(ServingError error) => error.Kind switch
    {
        ServingErrorKind.InvalidRequest => "invalid_request",
        ServingErrorKind.ModelNotFound => "model_not_found",
        ServingErrorKind.InputUnavailable => "input_unavailable",
        ServingErrorKind.TooLarge => "too_large",
        ServingErrorKind.Overloaded => "overloaded",
        ServingErrorKind.RateLimited => "rate_limited",
        ServingErrorKind.Unavailable => "unavailable",
        ServingErrorKind.Cancelled => "cancelled",
        _ => "internal",
    };

    private static InstrumentAdvice<double> Buckets(double[] bounds) => new() { HistogramBucketBoundaries = bounds };
}
