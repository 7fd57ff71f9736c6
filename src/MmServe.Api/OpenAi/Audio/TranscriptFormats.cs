using System.Globalization;
using System.IO.Compression;
using System.Text;
using MmServe.Serving.Speech;

namespace MmServe.Api.OpenAi.Audio;

/// <summary>
/// The response formats of OpenAI's transcription and translation endpoints for a speech model's result. Timestamps
/// are off (the forced <c>&lt;|notimestamps|&gt;</c> token), so the transcript is one segment from 0 to the audio's
/// duration (at most Whisper's 30 s window).
/// </summary>
internal static class TranscriptFormats
{
    public static readonly string[] All = ["json", "text", "verbose_json", "srt", "vtt"];

    public static IResult Render(string format, string task, TranscriptionResult result, float temperature)
    {
        string text = result.Text.Trim();
        double end = Math.Min(result.DurationSeconds, WhisperModel.MaxSeconds);
        return format switch
        {
            "text" => TypedResults.Text(text + "\n", "text/plain; charset=utf-8"),
            "srt" => TypedResults.Text(Srt(text, end), "application/x-subrip; charset=utf-8"),
            "vtt" => TypedResults.Text(Vtt(text, end), "text/vtt; charset=utf-8"),
            "verbose_json" => TypedResults.Json(
                new VerboseTranscriptionResponse(
                    task,
                    result.Language,
                    Math.Round(result.DurationSeconds, 3),
                    text,
                    [new TranscriptionSegment(0, 0, 0, Math.Round(end, 3), result.Text, result.TokenIds, temperature, result.AvgLogprob, CompressionRatio(text), NoSpeechProb: 0)]),
                OpenAiJsonContext.Wire.VerboseTranscriptionResponse),
            _ => TypedResults.Json(new TranscriptionResponse(text), OpenAiJsonContext.Wire.TranscriptionResponse),
        };
    }

    /// <summary>SubRip: a numbered cue, "HH:MM:SS,mmm --> HH:MM:SS,mmm", the text, a blank line.</summary>
    public static string Srt(string text, double end) =>
        string.Create(CultureInfo.InvariantCulture, $"1\n{Time(0, ',')} --> {Time(end, ',')}\n{text}\n\n");

    /// <summary>WebVTT: the "WEBVTT" header, a blank line, then "HH:MM:SS.mmm --> HH:MM:SS.mmm" and the text.</summary>
    public static string Vtt(string text, double end) =>
        string.Create(CultureInfo.InvariantCulture, $"WEBVTT\n\n{Time(0, '.')} --> {Time(end, '.')}\n{text}\n\n");

    private static string Time(double seconds, char separator)
    {
        long ms = (long)Math.Round(seconds * 1000, MidpointRounding.AwayFromZero);
        return string.Create(CultureInfo.InvariantCulture, $"{ms / 3_600_000:00}:{ms / 60_000 % 60:00}:{ms / 1000 % 60:00}{separator}{ms % 1000:000}");
    }

    /// <summary>Whisper's gzip compression ratio of the text (repetitive text compresses well).</summary>
    private static double CompressionRatio(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0)
        {
            return 0;
        }

        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return Math.Round((double)bytes.Length / compressed.Length, 4);
    }
}

/// <summary>response_format verbose_json.</summary>
internal sealed record VerboseTranscriptionResponse(string Task, string Language, double Duration, string Text, IReadOnlyList<TranscriptionSegment> Segments);

/// <summary>
/// One segment of verbose_json. <c>tokens</c> are the generated ids (the final end-of-text included).
/// <c>no_speech_prob</c> is not computed yet and is always 0 (OpenAI's SDKs require a number there).
/// </summary>
internal sealed record TranscriptionSegment(
    int Id, int Seek, double Start, double End, string Text, IReadOnlyList<int> Tokens, double Temperature, double AvgLogprob, double CompressionRatio, double NoSpeechProb);
