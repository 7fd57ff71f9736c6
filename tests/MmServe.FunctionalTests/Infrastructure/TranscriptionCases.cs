namespace MmServe.FunctionalTests.Infrastructure;

/// <summary>Golden audio cases shaped like a transcription request: one user turn, the clip, then the question.</summary>
public static class TranscriptionCases
{
    /// <summary>A clip followed by the bundle's transcription prompt ("Transcribe the audio."), no system message.</summary>
    public static GoldenCase Default { get; } = Find("Transcribe the audio.");

    /// <summary>A clip followed by "What do you hear?" (sent as the transcription "prompt").</summary>
    public static GoldenCase Heard { get; } = Find("What do you hear?");

    public static byte[] AudioBytes(GoldenCase golden) => Convert.FromBase64String(golden.Messages[0]!["content"]![0]!["input_audio"]!["data"]!.GetValue<string>());

    public static string Question(GoldenCase golden) => golden.Messages[0]!["content"]![1]!["text"]!.GetValue<string>();

    private static GoldenCase Find(string question) => GoldenCases.All.First(c =>
        c.Messages.Count == 1
        && c.Messages[0]!["content"]!.AsArray() is [var audio, var text]
        && (string)audio!["type"]! == "input_audio"
        && (string)text!["type"]! == "text"
        && (string)text["text"]! == question);
}
