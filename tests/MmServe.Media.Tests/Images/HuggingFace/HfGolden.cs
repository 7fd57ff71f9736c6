using System.Text.Json;
using MmServe.Media.Images;

namespace MmServe.Media.Tests.Images.HuggingFace;

/// <summary>
/// The golden files written by tools/pil-oracle/generate.py (Pillow 9.4, torch 1.13): input images, index.json with
/// the cases, and .npz archives of the reference outputs.
/// </summary>
internal static class HfGolden
{
    public static readonly string Directory = Path.Combine(TestPaths.RepoRoot, "tests", "MmServe.Media.Tests", "Images", "HuggingFace", "Golden");

    private static readonly Lazy<JsonDocument> IndexDocument = new(() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, "index.json"))));
    private static readonly Dictionary<string, Lazy<Dictionary<string, NpyArray>>> Archives = new()
    {
        ["resize"] = Archive("resize"),
        ["clip"] = Archive("clip"),
        ["phi3v"] = Archive("phi3v"),
        ["decoded"] = Archive("decoded"),
        ["bicubic"] = Archive("bicubic"),
    };

    /// <summary>The test images include a 600x7 strip, beyond the default 50:1 aspect-ratio limit.</summary>
    public static SafeImageDecoder Decoder { get; } = new(new ImageLimits { MaxAspectRatio = 1000 });

    public static JsonElement Index => IndexDocument.Value.RootElement;

    public static IEnumerable<JsonElement> Cases(string family) => Index.GetProperty(family).EnumerateArray();

    public static JsonElement Case(string family, string id) => Cases(family).Single(c => c.GetProperty("id").GetString() == id);

    public static NpyArray Array(string archive, string name) => Archives[archive].Value[name];

    public static byte[] ImageBytes(string name) => File.ReadAllBytes(Path.Combine(Directory, "images", name));

    /// <summary>Decodes like transformers' load_image: EXIF orientation applied, alpha dropped.</summary>
    public static RgbImage LoadImage(string name)
    {
        var result = Decoder.Decode(ImageBytes(name), new ImageDecodeOptions { ApplyExifOrientation = true });
        Assert.True(result.IsSuccess, result.ToString());
        return result.Value;
    }

    public static TheoryData<string> Ids(string family)
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases(family))
        {
            data.Add(c.GetProperty("id").GetString()!);
        }

        return data;
    }

    public static float MaxAbsDiff(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        }

        return worst;
    }

    private static Lazy<Dictionary<string, NpyArray>> Archive(string name) =>
        new(() => Npy.ReadArchive(Path.Combine(Directory, name + ".npz")));
}
