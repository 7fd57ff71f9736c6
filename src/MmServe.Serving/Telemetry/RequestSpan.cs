using System.Diagnostics;
using MmServe.Abstractions;
using MmServe.Serving.Errors;
using MmServe.Serving.Requests;

namespace MmServe.Serving.Telemetry;

/// <summary>
/// The span of one generation request, named and tagged per the OpenTelemetry GenAI conventions: "chat {model}",
/// request parameters, then the response's finish reason and token usage. Message content is never recorded.
/// </summary>
public static class RequestSpan
{
    public static Activity? Start(string model, ValidatedRequest request, string requestId)
    {
        var span = Tracing.Source.StartActivity($"chat {model}", ActivityKind.Internal);
        if (span is null)
        {
            return null;
        }

        var sampling = request.Sampling;
        span.SetTag("gen_ai.operation.name", "chat");
        span.SetTag("gen_ai.provider.name", "mmserve");
        span.SetTag("gen_ai.request.model", model);
        span.SetTag("gen_ai.request.temperature", sampling.Temperature);
        span.SetTag("gen_ai.request.top_p", sampling.TopP);
        if (sampling.MaxTokens is { } maxTokens)
        {
            span.SetTag("gen_ai.request.max_tokens", maxTokens);
        }

        if (sampling.Seed is { } seed)
        {
            span.SetTag("gen_ai.request.seed", seed);
        }

        span.SetTag("mmserve.request_id", requestId);
        span.SetTag("mmserve.media.count", request.Media.Count);
        return span;
    }

    public static void Finish(Activity? span, FinishReason reason, int promptTokens, int completionTokens)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("gen_ai.response.finish_reasons", new[] { Sessions.FinishReasonNames.Of(reason) });
        span.SetTag("gen_ai.usage.input_tokens", promptTokens);
        span.SetTag("gen_ai.usage.output_tokens", completionTokens);
        span.Stop();
    }

    /// <summary>
    /// The engine's stages as child spans of the request, from its timestamps: "gen_ai.queue" (submission to the
    /// prefill being scheduled), "gen_ai.prefill" (to the first token), "gen_ai.decode" (to the last). One span per
    /// stage, never one per token.
    /// </summary>
    public static void EngineStages(Activity? span, Engine.RequestTimings? timings)
    {
        if (span is null || timings is null || timings.Scheduled == 0)
        {
            return;
        }

        Stage(span, "gen_ai.queue", timings.Submitted, timings.Scheduled);
        if (timings.FirstToken != 0)
        {
            Stage(span, "gen_ai.prefill", timings.Scheduled, timings.FirstToken);
            Stage(span, "gen_ai.decode", timings.FirstToken, timings.Finished);
        }
    }

    private static void Stage(Activity parent, string name, long start, long end)
    {
        var now = DateTime.UtcNow;
        var stage = Tracing.Source.StartActivity(name, ActivityKind.Internal, parent.Context, startTime: now - Stopwatch.GetElapsedTime(start));
        if (stage is null)
        {
            return;
        }

        stage.SetEndTime(now - Stopwatch.GetElapsedTime(end));
        stage.Stop();
    }

    public static void Fail(Activity? span, ServingError error)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("error.type", error.Code ?? "internal");
        span.SetStatus(ActivityStatusCode.Error, error.Message);
        span.Stop();
    }
}
