using System.Globalization;
using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.RateLimits;
using MmServe.Serving;
using MmServe.Serving.Models;
using MmServe.Serving.Tasks;
using MmServe.Serving.Media;
using MmServe.Model.Chat;

namespace MmServe.Api.OpenAi.Audio;

/// <summary>
/// POST /v1/audio/transcriptions (multipart/form-data): the uploaded file goes through the same audio decoding,
/// limits and encoder as chat input_audio, followed by the model's transcription prompt (or the client's
/// "prompt", which replaces it: this is an instruction-following model, not a dedicated ASR model); the answer
/// is the text the LLM generates. The container is recognised from the bytes, never from the file name.
/// </summary>
internal sealed partial class TranscriptionService(
    ModelRegistry models,
    MmServe.Serving.Speech.SpeechModelRegistry speechModels,
    TokenBudgets budgets,
    ILogger<TranscriptionService> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context, bool translate = false)
    {
        var ct = context.RequestAborted;
        if (!context.Request.HasFormContentType)
        {
            return ApiError.InvalidRequest(
                "Send the audio as multipart/form-data with the fields 'file' and 'model'.", "file", "invalid_content_type").ToResult();
        }

        var (form, formError) = await UploadForm.ReadAsync(context.Request, ct).ConfigureAwait(false);
        if (formError is not null)
        {
            Log.BadForm(logger, context.TraceIdentifier, formError.Code ?? "");
            return formError.ToResult();
        }

        // A dedicated speech model ("SpeechModels", e.g. Whisper) answers by itself; chat models follow their prompt.
        if (speechModels.Find(form!["model"]) is { } speech)
        {
            return await SpeechModelTranscription.HandleAsync(speech, form, translate, context, ct).ConfigureAwait(false);
        }

        if (translate)
        {
            return ApiError.InvalidRequest($"The model '{form["model"]}' does not translate speech; use a speech model (SpeechModels).", "model", "unsupported_model").ToResult();
        }

        var (instance, unknown) = models.Resolve(form["model"]);
        if (unknown is not null)
        {
            return ApiError.From(unknown).ToResult();
        }

        var (instruction, responseFormat, temperature, invalid) = Validate(instance!, form);
        if (invalid is not null)
        {
            return invalid.ToResult();
        }

        var file = form.File!;

        // Shared with chat's input_audio: the same byte cap, decoders, duration limit and encoder cache. The container is
        // recognised from the bytes, so the upload's declared content type only labels the item.
        var media = new MediaReference(ServedModel.AudioModality, MediaSourceKind.Bytes, file.ContentType, null, "file") { Bytes = file.Bytes };
        var sampling = new SamplingParams { Temperature = temperature, MaxTokens = SingleTurnRunner.MaxAnswerTokens };
        var (result, error) = await instance!.Tasks.RunAsync(
            [new ChatPart.Media(ServedModel.AudioModality, 0), new ChatPart.Text(instruction!)], [media], sampling, [], "prompt", context.TraceIdentifier, budgets.For(context), ct)
            .ConfigureAwait(false);
        if (error is not null)
        {
            return ApiError.From(error).ToResult();
        }

        var text = result!.Text.Trim();
        return responseFormat == "text"
            ? TypedResults.Text(text, "text/plain; charset=utf-8")
            : TypedResults.Json(new TranscriptionResponse(text), OpenAiJsonContext.Wire.TranscriptionResponse);
    }

    private (string? Instruction, string? Format, float Temperature, ApiError? Error) Validate(ModelInstance model, UploadForm form)
    {
        var defaultInstruction = model.Model.Bundle.Manifest.InputModalities.TryGetValue(ServedModel.AudioModality, out var audio) ? audio.TranscriptionPrompt : null;
        if (defaultInstruction is null || !model.Policy.Accepts(ServedModel.AudioModality))
        {
            return Fail(ApiError.InvalidRequest($"The model '{model.Id}' does not transcribe audio.", "model", "unsupported_model"));
        }

        var file = form.File;
        if (file is null)
        {
            return Fail(ApiError.Missing("file"));
        }

        if (file.Bytes.Length == 0)
        {
            return Fail(ApiError.InvalidRequest("The uploaded file is empty.", "file", "invalid_audio"));
        }

        var format = form["response_format"] is { Length: > 0 } f ? f : "json";
        if (format is not ("json" or "text"))
        {
            return Fail(ApiError.InvalidRequest(
                $"Unsupported response_format '{format}'. This server answers 'json' or 'text' (no timestamps for verbose_json, srt or vtt).",
                "response_format",
                "unsupported_value"));
        }

        float temperature = 0;
        if (form["temperature"] is { Length: > 0 } t
            && (!float.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out temperature) || !(temperature >= 0 && temperature <= 1)))
        {
            return Fail(ApiError.InvalidRequest($"'temperature' must be a number between 0 and 1 (got '{t}').", "temperature", "invalid_value"));
        }

        var prompt = form["prompt"];
        return (string.IsNullOrWhiteSpace(prompt) ? defaultInstruction : prompt, format, temperature, null);
    }

    private static (string?, string?, float, ApiError?) Fail(ApiError error) => (null, null, 0, error);

    private static partial class Log
    {
        [LoggerMessage(22, LogLevel.Information, "Transcription request {RequestId}: unreadable form ({Reason}).")]
        public static partial void BadForm(ILogger logger, string requestId, string reason);
    }
}

/// <summary>The answer: <c>{"text"}</c>.</summary>
internal sealed record TranscriptionResponse(string Text);
