using System.Text.Json;
using MmServe.Media.Images;

namespace MmServe.Media.Tests.Images;

/// <summary>
/// Decoding + preprocessing reproduce the PyTorch recipe's pixel tensors (golden/preprocessing) within 1e-5:
/// the model size, a downscale, an odd-aspect upscale, a grayscale and an RGBA PNG.
/// </summary>
public sealed class GoldenPixelTests
{
    private const float Tolerance = 1e-5f;

    public static TheoryData<string, string> ImageEntries()
    {
        var data = new TheoryData<string, string>();
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Golden, "preprocessing", "index.json")));
        foreach (var entry in index.RootElement.GetProperty("entries").EnumerateArray())
        {
            if (entry.GetProperty("kind").GetString() == "image")
            {
                data.Add(entry.GetProperty("input").GetString()!, entry.GetProperty("expected").GetString()!);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ImageEntries))]
    public void GoldenImage_PreprocessesToPyTorchPixels(string input, string expected)
    {
        string dir = Path.Combine(TestPaths.Golden, "preprocessing");
        var decoded = new SafeImageDecoder().Decode(File.ReadAllBytes(Path.Combine(dir, input)));
        Assert.True(decoded.IsSuccess, decoded.Error?.Message);

        var pixels = new ImagePreprocessor(ManifestImageSpec()).Preprocess(decoded.Value!);
        var reference = Npy.Read(Path.Combine(dir, expected)).AsFloat32();
        Assert.Equal(reference.Length, pixels.Length);
        float worst = 0;
        for (int i = 0; i < pixels.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(pixels[i] - reference[i]));
        }

        Assert.True(worst <= Tolerance, $"{input}: max |diff| {worst} > {Tolerance}");
    }

    /// <summary>The image preprocessing section of the bundled manifest.</summary>
    private static ImagePreprocessingSpec ManifestImageSpec()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Bundle, "manifest.json")));
        var p = manifest.RootElement.GetProperty("input_modalities").GetProperty("image").GetProperty("preprocessing");
        return new ImagePreprocessingSpec(
            p.GetProperty("width").GetInt32(),
            p.GetProperty("height").GetInt32(),
            p.GetProperty("resize").GetString()!,
            p.GetProperty("rescale_factor").GetDouble(),
            [.. p.GetProperty("mean").EnumerateArray().Select(x => x.GetDouble())],
            [.. p.GetProperty("std").EnumerateArray().Select(x => x.GetDouble())],
            p.GetProperty("channel_order").GetString()!,
            p.GetProperty("layout").GetString()!);
    }
}
