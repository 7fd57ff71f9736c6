using MmServe.Media.Images;
using MmServe.Media.Images.HuggingFace;
using Xunit.Abstractions;

namespace MmServe.Media.Tests.Images.HuggingFace;

/// <summary>
/// <see cref="Phi3VImageProcessor"/> against the Python Phi3VImageProcessor re-implemented in tools/pil-oracle (golden
/// phi3v.npz): the HD image byte for byte, pixel_values within 1e-4, image_sizes and num_img_tokens exactly. One case
/// runs at the model's 336 tile; the others use smaller tiles (same code, smaller files).
/// </summary>
public sealed class Phi3VImageProcessorTests
{
    private const float Tolerance = 1e-4f;
    private readonly ITestOutputHelper _output;

    public Phi3VImageProcessorTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> CaseIds => HfGolden.Ids("phi3v");

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Pixel_values_match_the_Python_processor(string id)
    {
        var c = HfGolden.Case("phi3v", id);
        var processor = Processor(c.GetProperty("num_crops").GetInt32(), c.GetProperty("tile").GetInt32());
        var image = HfGolden.LoadImage(c.GetProperty("input").GetString()!);

        var hd = processor.HdTransform(image);
        var expectedHd = HfGolden.Array("phi3v", id + "__hd");
        Assert.Equal([hd.Height, hd.Width, 3], expectedHd.Shape);
        Assert.Equal(expectedHd.Data, hd.Pixels.ToArray());

        var result = processor.Process(image);
        int[] imageSize = [.. c.GetProperty("image_size").EnumerateArray().Select(v => v.GetInt32())];
        Assert.Equal((imageSize[0], imageSize[1]), (result.Size.Height, result.Size.Width));
        Assert.Equal(c.GetProperty("num_img_tokens").GetInt32(), result.Size.NumImageTokens);
        Assert.Equal(c.GetProperty("real_crops").GetInt32(), result.Crops);

        var expected = HfGolden.Array("phi3v", id).AsFloat32();
        int tilePlane = 3 * result.TileSize * result.TileSize;
        float global = HfGolden.MaxAbsDiff(result.Data.AsSpan(0, tilePlane), expected.AsSpan(0, tilePlane));
        float crops = HfGolden.MaxAbsDiff(result.Data.AsSpan(tilePlane), expected.AsSpan(tilePlane));
        _output.WriteLine($"{id}: global max |diff| {global:G3}, crops max |diff| {crops:G3}");
        Assert.True(global <= Tolerance && crops <= Tolerance, $"{id}: global {global}, crops {crops} > {Tolerance}");

        // The cheap size function agrees with the transform and with Python's calc_hd_transform_size.
        Assert.Equal(result.Size, processor.ImageSizeFor(image.Width, image.Height));
        int[] fromDims = [.. c.GetProperty("size_from_dims").EnumerateArray().Select(v => v.GetInt32())];
        Assert.Equal((fromDims[0], fromDims[1]), (result.Size.Width, result.Size.Height));
    }

    [Fact]
    public void Padded_form_appends_zero_crops_up_to_num_crops()
    {
        var processor = Processor(numCrops: 4, tile: 48);
        var result = processor.Process(HfGolden.LoadImage("wide_500x200.png"));

        Assert.Equal(2, result.Crops);
        var padded = result.ToPadded();
        Assert.Equal(5 * 3 * 48 * 48, padded.Length);
        Assert.Equal(result.Data, padded.AsSpan(0, result.Data.Length).ToArray());
        Assert.All(padded.AsSpan(result.Data.Length).ToArray(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentException>(() => result.CopyPadded(new float[padded.Length - 1]));
    }

    [Fact]
    public void Parses_the_phi35_vision_config()
    {
        var config = Phi3VImageProcessorConfig.Parse("""
            {
              "auto_map": {
                "AutoImageProcessor": "image_processing_phi3_v.Phi3VImageProcessor",
                "AutoProcessor": "processing_phi3_v.Phi3VProcessor"
              },
              "image_mean": [0.48145466, 0.4578275, 0.40821073],
              "image_processor_type": "Phi3VImageProcessor",
              "image_std": [0.26862954, 0.26130258, 0.27577711],
              "num_crops": 4,
              "num_img_tokens": 144,
              "processor_class": "Phi3VProcessor"
            }
            """u8);

        Assert.Equal(4, config.NumCrops);
        Assert.Equal(144, config.NumImageTokens);
        Assert.Equal(12, config.TokensPerRow);
        Assert.Equal(Phi3VImageProcessorConfig.DefaultTileSize, config.TileSize);
        Assert.Equal(1, Phi3VImageProcessorConfig.Parse("{}"u8).NumCrops);
    }

    [Theory]
    [InlineData("""{"num_crops": 0}""", "num_crops")]
    [InlineData("""{"num_crops": 2.5}""", "num_crops")]
    [InlineData("""{"num_img_tokens": 143}""", "num_img_tokens")]
    [InlineData("""{"image_std": [1, 1]}""", "image_std")]
    public void Rejects_invalid_configs(string json, string mentioned)
    {
        var error = Assert.Throws<InvalidDataException>(() => Phi3VImageProcessorConfig.Parse(System.Text.Encoding.UTF8.GetBytes(json)));
        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1, 672, 672, 757)]
    [InlineData(640, 480, 672, 672, 757)] // 4:3 -> 2 x 2 crops
    [InlineData(1920, 1080, 672, 672, 757)] // 16:9: scale 3 would need 3 * ceil(3 / 1.78) = 6 crops; 672 x 378, padded
    [InlineData(1080, 1920, 672, 672, 757)] // transposed, padded left and right
    [InlineData(1000, 1, 336, 1344, 745)] // 1 x 4 crops, a 1344 x 1 strip padded to 336 high
    public void Image_sizes_for_phi35_vision(int width, int height, int expectedHeight, int expectedWidth, int expectedTokens)
    {
        var size = Processor(numCrops: 4, tile: 336).ImageSizeFor(width, height);
        _output.WriteLine($"{width}x{height}: {size}");
        Assert.Equal((expectedHeight, expectedWidth, expectedTokens), (size.Height, size.Width, size.NumImageTokens));
    }

    [Fact]
    public void Size_function_agrees_with_the_transform_across_shapes()
    {
        var random = new Random(42);
        // The HD image's size does not depend on the input's, only on its aspect ratio, so small inputs cover it;
        // the output is up to num_crops tiles, hence fewer trials for 16.
        foreach (var (numCrops, trials) in new[] { (1, 30), (4, 20), (16, 6) })
        {
            var processor = Processor(numCrops, tile: 336);
            for (int trial = 0; trial < trials; trial++)
            {
                int width = random.Next(1, 700), height = random.Next(1, 700);
                if (Math.Max(width, height) / (double)Math.Min(width, height) > 300)
                {
                    continue;
                }

                var image = new RgbImage(width, height, new byte[width * height * 3]);
                var hd = processor.HdTransform(image);
                var size = processor.ImageSizeFor(width, height);
                Assert.Equal((hd.Height, hd.Width), (size.Height, size.Width));
                Assert.Equal(0, hd.Height % 336);
                Assert.Equal(0, hd.Width % 336);
                Assert.InRange(size.Crops, 1, numCrops);
            }
        }
    }

    [Fact]
    public void Too_elongated_images_fail_like_Python()
    {
        // 4 crops: the long side becomes at most 1344 pixels, so a 2000:1 strip would be 0 pixels high.
        var processor = Processor(numCrops: 4, tile: 336);
        Assert.Throws<ArgumentException>(() => processor.ImageSizeFor(2000, 1));
        Assert.Throws<ArgumentException>(() => processor.Process(new RgbImage(1, 2000, new byte[6000])));
        Assert.Equal(4, processor.ImageSizeFor(1000, 1).Crops);
    }

    private static Phi3VImageProcessor Processor(int numCrops, int tile) =>
        new(new Phi3VImageProcessorConfig { NumCrops = numCrops, TileSize = tile });
}
