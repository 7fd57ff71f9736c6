using Microsoft.Extensions.Options;
using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.RateLimits;
using MmServe.Serving;
using MmServe.Serving.Generation;
using MmServe.Serving.Models;
using MmServe.Serving.Requests;
using MmServe.Serving.Tasks;
using MmServe.Media.Output;
using MmServe.Model.Chat;

namespace MmServe.Api.OpenAi.Audio;

/// <summary>
/// POST /v1/audio/speech: the input goes into the model's audio prompt template as one user turn, decoded
/// greedily; the generated clips are joined and sent as the response body (audio/wav at the model's sample rate,
/// or audio/pcm: 16-bit little-endian mono at OpenAI's 24 kHz, also given in the X-Sample-Rate header).
/// </summary>
internal sealed partial class SpeechService(
    ModelRegistry models,
    IOptions<LimitsOptions> limits,
    IOptions<GenerationOptions> options,
    TokenBudgets budgets,
    ILogger<SpeechService> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var (body, readError) = await JsonBodyReader.ReadAsync(
            context, OpenAiJsonContext.Wire.SpeechRequest, limits.Value.MaxRequestBodyBytes, ct).ConfigureAwait(false);
        if (readError is not null)
        {
            return readError.ToResult();
        }

        var (instance, unknown) = models.Resolve(body!.Model);
        if (unknown is not null)
        {
            return ApiError.From(unknown).ToResult();
        }

        var (modality, format, validationError) = Validate(instance!, body);
        if (validationError is not null)
        {
            return validationError.ToResult();
        }

        var text = SingleTurnRunner.FillTemplate(modality!.Spec.PromptTemplate!, body!.Input!);
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = SingleTurnRunner.MaxAnswerTokens };
        var (result, error) = await instance!.Tasks.RunAsync(
            [new ChatPart.Text(text)], [], sampling, [modality], "input", context.TraceIdentifier, budgets.For(context), ct).ConfigureAwait(false);
        if (error is not null)
        {
            return ApiError.From(error).ToResult();
        }

        var clips = result!.Media.Where(m => !m.IsImage).ToList();
        if (clips.Count == 0)
        {
            Log.NoAudio(logger, context.TraceIdentifier, result.Text);
            return ApiError.InvalidRequest(
                $"The model produced no audio for this input; it answered: \"{result.Text.Trim()}\".", "input", "no_audio_generated").ToResult();
        }

        var samples = clips.SelectMany(c => c.Samples).ToArray();
        if (format == "pcm")
        {
            context.Response.Headers["X-Sample-Rate"] = OpenAiPcm.SampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Bytes(OpenAiPcm.Encode(samples, modality.SampleRate), "audio/pcm");
        }

        return TypedResults.Bytes(GeneratedAudioEncoder.EncodeWav(samples, modality.SampleRate), "audio/wav");
    }

    private (OutputModality? Modality, string? Format, ApiError? Error) Validate(ModelInstance model, SpeechRequest request)
    {
        if (!model.Generator.Modalities.TryGetValue(ServedModel.AudioModality, out var modality) || modality.Spec.PromptTemplate is null)
        {
            return Fail(ApiError.InvalidRequest($"The model '{model.Id}' does not generate audio.", "model", "unsupported_model"));
        }

        if (request.Input is null)
        {
            return Fail(ApiError.Missing("input"));
        }

        if (string.IsNullOrWhiteSpace(request.Input))
        {
            return Fail(ApiError.InvalidRequest("'input' must not be empty.", "input", "empty_string"));
        }

        int maxChars = options.Value.MaxInputChars;
        if (request.Input.Length > maxChars)
        {
            return Fail(ApiError.InvalidRequest(
                $"'input' is too long: {request.Input.Length} characters; the limit is {maxChars}.", "input", "string_above_max_length"));
        }

        if (string.IsNullOrEmpty(request.Voice))
        {
            return Fail(ApiError.Missing("voice"));
        }

        if (OutputRules.CheckVoice(request.Voice, modality, "voice") is { } voiceError)
        {
            return Fail(ApiError.From(voiceError));
        }

        var format = request.ResponseFormat ?? "wav";
        if (format is not ("wav" or "pcm"))
        {
            return Fail(ApiError.InvalidRequest(
                $"Unsupported response_format '{format}'. This server encodes 'wav' and 'pcm' (no managed mp3/opus/aac/flac encoder is shipped).",
                "response_format",
                "unsupported_value"));
        }

        if (request.Speed is { } speed && speed != 1.0)
        {
            return Fail(!(speed >= 0.25 && speed <= 4.0)
                ? ApiError.InvalidRequest($"'speed' must be between 0.25 and 4.0 (got {speed}).", "speed", "invalid_value")
                : ApiError.InvalidRequest("Only speed 1.0 is supported: this model's audio cannot be re-timed without changing its pitch.", "speed", "unsupported_value"));
        }

        if (request.StreamFormat is { } stream && stream != "audio")
        {
            return Fail(ApiError.InvalidRequest($"Unsupported stream_format '{stream}'; use 'audio'.", "stream_format", "unsupported_value"));
        }

        return (modality, format, null);
    }

    private static (OutputModality?, string?, ApiError?) Fail(ApiError error) => (null, null, error);

    private static partial class Log
    {
        [LoggerMessage(21, LogLevel.Information, "Speech request {RequestId}: the model produced no audio; it answered \"{Answer}\".")]
        public static partial void NoAudio(ILogger logger, string requestId, string answer);
    }
}
