namespace MmServe.Api.OpenAi.Audio;

/// <summary>The body of POST /v1/audio/speech, as OpenAI defines it.</summary>
internal sealed class SpeechRequest
{
    public string? Model { get; set; }

    /// <summary>What to say; placed into the model's audio prompt template (mmserve-tiny plays beeps: "two high beeps").</summary>
    public string? Input { get; set; }

    /// <summary>One of the model's voices (GET /v1/models: capabilities.voices).</summary>
    public string? Voice { get; set; }

    /// <summary>"wav" (the default here; OpenAI's default mp3 has no managed encoder) or "pcm".</summary>
    public string? ResponseFormat { get; set; }

    /// <summary>Only 1.0 (changing speed would change the generated pitch).</summary>
    public double? Speed { get; set; }

    /// <summary>Only "audio" (the file in the response body).</summary>
    public string? StreamFormat { get; set; }

    /// <summary>Accepted and ignored.</summary>
    public string? Instructions { get; set; }
}
