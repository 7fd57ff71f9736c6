using System.Net.Http.Headers;
using System.Text.Json;

namespace MmServe.TestSupport;

/// <summary>One case of tests/conformance/goldens/speech/tiny-whisper.json (transformers.js's answers).</summary>
public sealed record WhisperGoldenCase(string Id, string Audio, string Language, string Task, int[] OutputIds, string OutputText)
{
    /// <summary>The route of its task: /v1/audio/translations for "translate", else transcriptions.</summary>
    public string Route => Task == "translate" ? "v1/audio/translations" : "v1/audio/transcriptions";

    /// <summary>The multipart form OpenAI's audio endpoints take: the clip as "file", the model, language and format.</summary>
    public MultipartFormDataContent Form(string model, string format)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests", "conformance", Audio)));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", Path.GetFileName(Audio));
        form.Add(new StringContent(model), "model");
        form.Add(new StringContent(Language), "language");
        form.Add(new StringContent(format), "response_format");
        return form;
    }
}

/// <summary>The tiny-whisper golden cases.</summary>
public static class WhisperGolden
{
    public const string Model = "tiny-whisper";

    public static IReadOnlyList<WhisperGoldenCase> Cases()
    {
        string golden = Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "goldens", "speech", $"{Model}.json");
        using var document = JsonDocument.Parse(File.ReadAllText(golden));
        return [.. document.RootElement.GetProperty("cases").EnumerateArray().Select(c => new WhisperGoldenCase(
            c.GetProperty("id").GetString()!,
            c.GetProperty("audio").GetString()!,
            c.GetProperty("language").GetString()!,
            c.GetProperty("task").GetString()!,
            [.. c.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32())],
            c.GetProperty("output_text").GetString()!))];
    }
}
