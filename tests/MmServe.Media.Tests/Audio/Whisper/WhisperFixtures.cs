using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MmServe.Media.Tests.Audio.Whisper;

/// <summary>
/// Processor fixtures of the Whisper-featured conformance models: tiny-whisper's (30 s windows, generate-whisper.mjs)
/// and tiny-ultravox's (each clip at its own length, generate-ultravox.mjs), same layout.
/// </summary>
internal static class WhisperFixtures
{
    public const string Whisper = "tiny-whisper";
    public const string Ultravox = "tiny-ultravox";

    public static TheoryData<string> Clips(string model = Whisper)
    {
        var data = new TheoryData<string>();
        foreach (var item in Items(model))
        {
            data.Add(item.GetProperty("audio").GetString()!);
        }

        return data;
    }

    public static (float[] Samples, float[] Features) Load(string audio, string model = Whisper)
    {
        var item = Items(model).Single(i => i.GetProperty("audio").GetString() == audio);
        return (
            ReadFloats(model, item.GetProperty("samples").GetProperty("file").GetString()!),
            ReadFloats(model, item.GetProperty("input_features").GetProperty("file").GetString()!));
    }

    public static string AudioPath(string audio) => Path.Combine(TestPaths.RepoRoot, "tests", "conformance", audio);

    private static List<JsonElement> Items(string model)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory(model), "index.json")));
        return index.RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static float[] ReadFloats(string model, string file)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(Directory(model), file)), CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        gzip.CopyTo(bytes);
        return MemoryMarshal.Cast<byte, float>(bytes.GetBuffer().AsSpan(0, (int)bytes.Length)).ToArray();
    }

    private static string Directory(string model) => Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "fixtures", model);
}
