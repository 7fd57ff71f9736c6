using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MmServe.Media.Tests.Audio.Whisper;

/// <summary>The tiny-whisper processor fixtures written by tools/conformance-models/oracle/generate-whisper.mjs.</summary>
internal static class WhisperFixtures
{
    public static string Directory { get; } = Locate();

    public static TheoryData<string> Clips()
    {
        var data = new TheoryData<string>();
        foreach (var item in Items())
        {
            data.Add(item.GetProperty("audio").GetString()!);
        }

        return data;
    }

    public static (float[] Samples, float[] Features) Load(string audio)
    {
        var item = Items().Single(i => i.GetProperty("audio").GetString() == audio);
        return (
            ReadFloats(item.GetProperty("samples").GetProperty("file").GetString()!),
            ReadFloats(item.GetProperty("input_features").GetProperty("file").GetString()!));
    }

    public static string AudioPath(string audio) => Path.Combine(TestPaths.RepoRoot, "tests", "conformance", audio);

    private static List<JsonElement> Items()
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "index.json")));
        return index.RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static float[] ReadFloats(string file)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(Directory, file)), CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        gzip.CopyTo(bytes);
        return MemoryMarshal.Cast<byte, float>(bytes.GetBuffer().AsSpan(0, (int)bytes.Length)).ToArray();
    }

    private static string Locate() => Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "fixtures", "tiny-whisper");
}
