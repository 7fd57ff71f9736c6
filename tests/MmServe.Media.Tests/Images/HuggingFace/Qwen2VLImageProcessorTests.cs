using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using MmServe.Media.Images;
using MmServe.Media.Images.HuggingFace;
using Xunit.Abstractions;

namespace MmServe.Media.Tests.Images.HuggingFace;

/// <summary>
/// <see cref="Qwen2VLImageProcessor"/> against transformers.js 4.3.1's Qwen2VLImageProcessor on the tiny-qwen2-vl
/// conformance media (tools/conformance-models/README-part2.md): 8 images of 6 aspect ratios and 6 videos (2–8 PNG
/// frames). pixel_values within 1e-4, grid_thw exactly. None of these is resized (sides are multiples of 28): the
/// resize is PIL's, checked byte for byte in <see cref="PilResizeTests"/>.
/// </summary>
public sealed class Qwen2VLImageProcessorTests
{
    private const float Tolerance = 1e-4f;
    private static readonly string ConformanceRoot = Path.Combine(TestPaths.RepoRoot, "tests", "conformance");
    private static readonly SafeImageDecoder Decoder = new(new ImageLimits());
    private readonly ITestOutputHelper _output;

    public Qwen2VLImageProcessorTests(ITestOutputHelper output) => _output = output;

    /// <summary>The fixture folder: live once the goldens are, staged under pending/ before.</summary>
    public static string FixtureDirectory { get; } = new[]
    {
        Path.Combine(ConformanceRoot, "fixtures", "tiny-qwen2-vl"),
        Path.Combine(ConformanceRoot, "pending", "fixtures", "tiny-qwen2-vl"),
    }.First(Directory.Exists);

    public static TheoryData<int> Items
    {
        get
        {
            var data = new TheoryData<int>();
            for (int i = 0; i < Index().GetProperty("items").GetArrayLength(); i++)
            {
                data.Add(i);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Items))]
    public void Pixel_values_and_grid_match_transformers_js(int item)
    {
        var entry = Index().GetProperty("items")[item];
        var processor = Processor();
        Qwen2VLPixelValues result;
        string name;
        if (entry.GetProperty("type").GetString() == "image")
        {
            name = entry.GetProperty("path").GetString()!;
            result = processor.ProcessImage(Load(name));
        }
        else
        {
            name = entry.GetProperty("file").GetString()!;
            result = processor.ProcessVideo([.. entry.GetProperty("frames").EnumerateArray().Select(f => Load(f.GetString()!))]);
        }

        int[] grid = [.. entry.GetProperty("grid_thw").EnumerateArray().Select(v => v.GetInt32())];
        Assert.Equal(grid, new[] { result.GridT, result.GridH, result.GridW });
        Assert.Equal(entry.GetProperty("tokens").GetInt32(), result.TokenCount);

        var pixelValues = entry.GetProperty("pixel_values");
        int[] shape = [.. pixelValues.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32())];
        Assert.Equal(shape, new[] { result.PatchCount, result.PatchDimension });
        var expected = ReadFloats(pixelValues);
        Assert.Equal(expected.Length, result.Data.Length);
        float max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            max = Math.Max(max, Math.Abs(expected[i] - result.Data[i]));
        }

        _output.WriteLine($"{name}: grid {string.Join('x', grid)}, max |diff| {max:G3}");
        Assert.True(max <= Tolerance, $"{name}: max |diff| {max} > {Tolerance}");
    }

    [Theory]
    [InlineData(56, 56, 56, 56)]
    [InlineData(10, 10, 56, 56)] // below min_pixels: scaled up (ceil)
    [InlineData(100, 50, 112, 56)] // 50/28 = 1.79 → 2, 100/28 = 3.57 → 4
    [InlineData(42, 70, 56, 56)] // 42/28 = 1.5 → 2 (half to even), 70/28 = 2.5 → 2 (half to even)
    [InlineData(640, 480, 644, 476)] // 22.86 → 23, 17.14 → 17
    public void Smart_resize_rounds_like_Python(int height, int width, int expectedHeight, int expectedWidth)
    {
        var processor = Processor();
        Assert.Equal((expectedHeight, expectedWidth), processor.ResizedSize(width, height));
    }

    [Fact]
    public void Smart_resize_scales_down_into_max_pixels()
    {
        var processor = new Qwen2VLImageProcessor(new Qwen2VLImageProcessorConfig { MinPixels = 3136, MaxPixels = 28 * 28 * 16 });
        // 448x448 → round 16x16 factors = 256 > 16: beta = sqrt(448*448 / 12544) = 4; floor(448/4/28)*28 = 112.
        Assert.Equal((112, 112), processor.ResizedSize(448, 448));
        Assert.Equal((1, 8, 8), processor.GridFor(448, 448));
        Assert.Equal((2, 8, 8), processor.GridFor(448, 448, frames: 3));
    }

    [Fact]
    public void Resized_image_is_patched_from_its_PIL_resize()
    {
        var processor = Processor();
        var image = Load("images/qwen2vl/red-circle-56x56.png");
        var upscaled = PilResize.Resize(image, 70, 42, PilResampling.Bicubic);
        var result = processor.ProcessImage(upscaled);

        // 42x70 → 56x56: the patches are those of PIL's bicubic resize of the upscaled image.
        var direct = processor.ProcessImage(PilResize.Resize(upscaled, 56, 56, PilResampling.Bicubic));
        Assert.Equal((1, 4, 4), (result.GridT, result.GridH, result.GridW));
        Assert.Equal(direct.Data, result.Data);
    }

    [Fact]
    public void Odd_frame_count_repeats_the_last_frame()
    {
        var processor = Processor();
        var a = Load("videos/purple-circle-left-3f-84x140/frame-0.png");
        var b = Load("videos/purple-circle-left-3f-84x140/frame-1.png");
        var c = Load("videos/purple-circle-left-3f-84x140/frame-2.png");
        Assert.Equal(processor.ProcessVideo([a, b, c, c]).Data, processor.ProcessVideo([a, b, c]).Data);
        Assert.Equal(processor.ProcessVideo([a, a]).Data, processor.ProcessImage(a).Data);
    }

    [Fact]
    public void Config_is_read_from_the_conformance_model()
    {
        var config = Config();
        Assert.Equal((3136L, 12845056L, 14, 2, 2, PilResampling.Bicubic), (config.MinPixels, config.MaxPixels, config.PatchSize, config.TemporalPatchSize, config.MergeSize, config.Resample));
        Assert.Equal(1176, config.PatchDimension);

        var fromSize = Qwen2VLImageProcessorConfig.Parse("""{"size": {"shortest_edge": 100, "longest_edge": 1000}}"""u8);
        Assert.Equal((100L, 1000L), (fromSize.MinPixels, fromSize.MaxPixels));
        var bad = Assert.Throws<InvalidDataException>(() => Qwen2VLImageProcessorConfig.Parse("""{"min_pixels": 10, "max_pixels": 5}"""u8));
        Assert.Contains("preprocessor_config.json", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extreme_aspect_ratios_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Processor().ResizedSize(2010, 10));
    }

    private static Qwen2VLImageProcessorConfig Config() => Qwen2VLImageProcessorConfig.Parse(
        File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-qwen2-vl", "preprocessor_config.json")));

    private static Qwen2VLImageProcessor Processor() => new(Config());

    private static JsonElement Index() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixtureDirectory, "index.json"))).RootElement;

    private static RgbImage Load(string relative)
    {
        var result = Decoder.Decode(File.ReadAllBytes(Path.Combine(ConformanceRoot, relative)), new ImageDecodeOptions());
        Assert.True(result.IsSuccess, result.ToString());
        return result.Value;
    }

    private static float[] ReadFloats(JsonElement tensor)
    {
        using var file = File.OpenRead(Path.Combine(FixtureDirectory, tensor.GetProperty("file").GetString()!));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        var bytes = buffer.ToArray();
        Assert.Equal(tensor.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}
