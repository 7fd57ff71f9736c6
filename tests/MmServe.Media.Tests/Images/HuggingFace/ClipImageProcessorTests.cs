using System.Text;
using System.Text.Json;
using MmServe.Media.Images.HuggingFace;
using Xunit.Abstractions;

namespace MmServe.Media.Tests.Images.HuggingFace;

/// <summary>
/// <see cref="ClipImageProcessor"/> against the Python CLIPImageProcessor re-implemented in tools/pil-oracle
/// (golden clip.npz): LLaVA's config at 336 and small variants (bilinear/nearest, fixed size, crops that pad, no
/// resize, no crop, custom mean/std, no rescale) on odd, tall, wide, grayscale, alpha, palette, EXIF and 1x1 images.
/// </summary>
public sealed class ClipImageProcessorTests
{
    private const float Tolerance = 1e-4f;
    private readonly ITestOutputHelper _output;

    public ClipImageProcessorTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> CaseIds => HfGolden.Ids("clip");

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Pixel_values_match_the_Python_processor(string id)
    {
        var c = HfGolden.Case("clip", id);
        string configName = c.GetProperty("config").GetString()!;
        var configJson = HfGolden.Index.GetProperty("clip_configs").GetProperty(configName).GetRawText();
        var processor = new ClipImageProcessor(ClipImageProcessorConfig.Parse(Encoding.UTF8.GetBytes(configJson)));

        var result = processor.Process(HfGolden.LoadImage(c.GetProperty("input").GetString()!));

        var expected = HfGolden.Array("clip", id);
        Assert.Equal([3, result.Height, result.Width], expected.Shape);
        float worst = HfGolden.MaxAbsDiff(result.Data, expected.AsFloat32());
        _output.WriteLine($"{id}: max |diff| {worst:G3}");
        Assert.True(worst <= Tolerance, $"{id}: max |diff| {worst} > {Tolerance}");
    }

    [Fact]
    public void Parses_the_llava_config()
    {
        var config = ClipImageProcessorConfig.Parse("""
            {
              "crop_size": {"height": 336, "width": 336},
              "do_center_crop": true,
              "do_convert_rgb": true,
              "do_normalize": true,
              "do_rescale": true,
              "do_resize": true,
              "image_mean": [0.48145466, 0.4578275, 0.40821073],
              "image_processor_type": "CLIPImageProcessor",
              "image_std": [0.26862954, 0.26130258, 0.27577711],
              "processor_class": "LlavaProcessor",
              "resample": 3,
              "rescale_factor": 0.00392156862745098,
              "size": {"shortest_edge": 336}
            }
            """u8);

        Assert.Equal(ClipResizeSize.WithShortestEdge(336), config.Size);
        Assert.Equal((336, 336), (config.CropHeight, config.CropWidth));
        Assert.Equal(PilResampling.Bicubic, config.Resample);
        Assert.Equal(1 / 255.0, config.RescaleFactor);
        Assert.Equal(ClipImageProcessorConfig.OpenAiClipMean, config.ImageMean);
    }

    [Fact]
    public void Defaults_and_short_forms_follow_get_size_dict()
    {
        var defaults = ClipImageProcessorConfig.Parse("{}"u8);
        Assert.Equal(ClipResizeSize.WithShortestEdge(224), defaults.Size);
        Assert.Equal((224, 224), (defaults.CropHeight, defaults.CropWidth));
        Assert.Equal(PilResampling.Bicubic, defaults.Resample);

        var shortForms = ClipImageProcessorConfig.Parse("""{"size": 300, "crop_size": 256, "image_mean": 0.5, "image_std": null}"""u8);
        Assert.Equal(ClipResizeSize.WithShortestEdge(300), shortForms.Size);
        Assert.Equal((256, 256), (shortForms.CropHeight, shortForms.CropWidth));
        Assert.Equal([0.5, 0.5, 0.5], shortForms.ImageMean);
        Assert.Equal(ClipImageProcessorConfig.OpenAiClipStd, shortForms.ImageStd);

        var pairs = ClipImageProcessorConfig.Parse("""{"size": [200, 100], "crop_size": [50, 60]}"""u8);
        Assert.Equal(ClipResizeSize.Exactly(200, 100), pairs.Size);
        Assert.Equal((50, 60), (pairs.CropHeight, pairs.CropWidth));
    }

    [Theory]
    [InlineData("""{"size": {"longest_edge": 336}}""", "size")]
    [InlineData("""{"size": {"shortest_edge": 0}}""", "size.shortest_edge")]
    [InlineData("""{"resample": 7}""", "resample")]
    [InlineData("""{"image_mean": [0.5, 0.5]}""", "image_mean")]
    [InlineData("""{"image_std": [1, 0, 1]}""", "image_std")]
    [InlineData("""{"do_resize": "yes"}""", "do_resize")]
    [InlineData("""[1, 2]""", "JSON object")]
    [InlineData("""{"size": """, "invalid JSON")]
    public void Rejects_invalid_configs(string json, string mentioned)
    {
        var error = Assert.Throws<InvalidDataException>(() => ClipImageProcessorConfig.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(333, 517, 336, 521)] // int(336 * 517 / 333) = 521.6 -> 521
    [InlineData(517, 333, 521, 336)]
    [InlineData(400, 400, 336, 336)]
    [InlineData(1, 3, 336, 1008)]
    [InlineData(640, 480, 448, 336)]
    public void Shortest_edge_rounds_like_transformers(int width, int height, int expectedWidth, int expectedHeight)
    {
        var processor = new ClipImageProcessor(new ClipImageProcessorConfig { Size = ClipResizeSize.WithShortestEdge(336) });
        Assert.Equal((expectedHeight, expectedWidth), processor.ResizedSize(width, height));
        Assert.Equal((224, 224), processor.OutputSize(width, height));
    }

    [Fact]
    public void Process_into_a_span_checks_the_length()
    {
        var processor = new ClipImageProcessor(new ClipImageProcessorConfig());
        var image = new MmServe.Media.Images.RgbImage(2, 2, new byte[12]);
        Assert.Throws<ArgumentException>(() => processor.Process(image, new float[10]));
    }
}
