using System.Globalization;
using MmServe.Api.Errors;
using MmServe.Serving.Speech;

namespace MmServe.Api.OpenAi.Audio;

/// <summary>
/// /v1/audio/transcriptions and /v1/audio/translations for a dedicated speech model (a "SpeechModels" entry, e.g.
/// Whisper): fields file, model, language (ISO-639-1; default English), response_format
/// json/text/verbose_json/srt/vtt, temperature 0..1. "prompt" (Whisper's previous-text context) is not supported.
/// </summary>
internal static class SpeechModelTranscription
{
    /// <summary>New tokens at most: half the decoder window, as Whisper's own sample_len.</summary>
    private const int MaxNewTokens = 224;

    public static async Task<IResult> HandleAsync(WhisperModel model, UploadForm form, bool translate, HttpContext context, CancellationToken ct)
    {
        var file = form.File;
        if (file is null)
        {
            return ApiError.Missing("file").ToResult();
        }

        if (file.Bytes.Length == 0)
        {
            return ApiError.InvalidRequest("The uploaded file is empty.", "file", "invalid_audio").ToResult();
        }

        var format = form["response_format"] is { Length: > 0 } f ? f : "json";
        if (!TranscriptFormats.All.Contains(format))
        {
            return ApiError.InvalidRequest(
                $"Unsupported response_format '{format}' (expected one of {string.Join(", ", TranscriptFormats.All)}).", "response_format", "unsupported_value").ToResult();
        }

        float temperature = 0;
        if (form["temperature"] is { Length: > 0 } t
            && (!float.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out temperature) || !(temperature >= 0 && temperature <= 1)))
        {
            return ApiError.InvalidRequest($"'temperature' must be a number between 0 and 1 (got '{t}').", "temperature", "invalid_value").ToResult();
        }

        string? language = form["language"] is { Length: > 0 } l ? l : null;
        string task = translate ? "translate" : "transcribe";
        var (result, error) = await model.TranscribeAsync(file.Bytes, language, task, temperature, MaxNewTokens, context.TraceIdentifier, ct).ConfigureAwait(false);
        return error is not null
            ? ApiError.From(error).ToResult()
            : TranscriptFormats.Render(format, task, result!, temperature);
    }
}
