using MmServe.Api.Errors;

namespace MmServe.Api.OpenAi.Audio;

/// <summary>POST /v1/audio/speech and POST /v1/audio/transcriptions.</summary>
internal static class AudioEndpoints
{
    public const string SpeechRoute = "/v1/audio/speech";
    public const string TranscriptionsRoute = "/v1/audio/transcriptions";
    public const string TranslationsRoute = "/v1/audio/translations";

    public static IEndpointRouteBuilder MapAudio(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(SpeechRoute, (HttpContext context, SpeechService service) => service.HandleAsync(context))
            .WithName("CreateSpeech")
            .WithTags("Audio")
            .WithSummary("Generates audio from the input text (OpenAI-compatible).")
            .WithDescription(
                "The input is placed into the model's audio prompt template (mmserve-tiny plays beeps: try \"two high beeps\"). "
                + "voice: one of GET /v1/models capabilities.voices. response_format: wav (default) or pcm (16-bit little-endian "
                + "mono at 24 kHz as OpenAI's pcm, also sent in the X-Sample-Rate header). speed: 1.0 only.")
            .Accepts<SpeechRequest>("application/json")
            .Produces(StatusCodes.Status200OK, contentType: "audio/wav", additionalContentTypes: ["audio/pcm"])
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status429TooManyRequests);

        endpoints.MapPost(TranscriptionsRoute, (HttpContext context, TranscriptionService service) => service.HandleAsync(context))
            .WithName("CreateTranscription")
            .WithTags("Audio")
            .WithSummary("Transcribes an uploaded audio file (OpenAI-compatible, multipart/form-data).")
            .WithDescription(
                "Fields: file (wav or mp3; flac, ogg, webm, m4a with ffmpeg), model, optional prompt (the instruction sent with "
                + "the audio; default: the model's transcription prompt), response_format json (default) or text, temperature "
                + "0..1, language (ignored). The audio limits of chat input apply (bytes, seconds).")
            .DisableAntiforgery()
            .Produces<TranscriptionResponse>(StatusCodes.Status200OK)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status413PayloadTooLarge);

        endpoints.MapPost(TranslationsRoute, (HttpContext context, TranscriptionService service) => service.HandleAsync(context, translate: true))
            .WithName("CreateTranslation")
            .WithTags("Audio")
            .WithSummary("Translates speech into English text (OpenAI-compatible, multipart/form-data; speech models only).")
            .WithDescription(
                "Fields: file, model (a SpeechModels entry such as a Whisper export), optional language of the speech (ISO-639-1), "
                + "response_format json (default), text, verbose_json, srt or vtt, temperature 0..1.")
            .DisableAntiforgery()
            .Produces<TranscriptionResponse>(StatusCodes.Status200OK)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound);
        return endpoints;
    }
}
