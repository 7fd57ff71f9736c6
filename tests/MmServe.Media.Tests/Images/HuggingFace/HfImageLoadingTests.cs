using MmServe.Media.Images;
using Xunit.Abstractions;

namespace MmServe.Media.Tests.Images.HuggingFace;

/// <summary>
/// Decoding with <see cref="ImageDecodeOptions.ApplyExifOrientation"/> against transformers' load_image
/// (PIL: ImageOps.exif_transpose, then convert("RGB")), golden decoded.npz.
/// </summary>
public sealed class HfImageLoadingTests
{
    private readonly ITestOutputHelper _output;

    public HfImageLoadingTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string, string> LosslessCases => new()
    {
        { "orientation1_7x5.png", "orient1" },
        { "orientation2_7x5.png", "orient2" },
        { "orientation3_7x5.png", "orient3" },
        { "orientation4_7x5.png", "orient4" },
        { "orientation5_7x5.png", "orient5" },
        { "orientation6_7x5.png", "orient6" },
        { "orientation7_7x5.png", "orient7" },
        { "orientation8_7x5.png", "orient8" },
        { "exif6_gray_blocks_120x72.jpg", "exif6" },
        { "gray_L_203x150.png", "gray" },
        { "la_120x77.png", "la" },
        { "rgba_150x101.png", "rgba" },
        { "palette_P_trns_97x131.png", "palette" },
    };

    [Theory]
    [MemberData(nameof(LosslessCases))]
    public void Decoded_pixels_are_those_of_PIL_load_image(string file, string key)
    {
        var image = HfGolden.LoadImage(file);

        var expected = HfGolden.Array("decoded", key);
        Assert.Equal([image.Height, image.Width, 3], expected.Shape);
        Assert.Equal(expected.Data, image.Pixels.ToArray());
    }

    [Fact]
    public void Colour_jpeg_is_oriented_and_close_to_libjpeg()
    {
        var image = HfGolden.LoadImage("photo_exif8_160x120.jpg");

        var expected = HfGolden.Array("decoded", "jpeg8");
        Assert.Equal([image.Height, image.Width, 3], expected.Shape);
        Assert.Equal([160L, 120, 3], expected.Shape);
        var actual = image.Pixels.Span;
        int worst = 0;
        double total = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            int diff = Math.Abs(actual[i] - expected.Data[i]);
            worst = Math.Max(worst, diff);
            total += diff;
        }

        // ImageSharp and libjpeg-turbo differ in IDCT rounding and chroma upsampling (libjpeg's "fancy" triangle
        // filter), most at sharp colour edges: this synthetic image (2-pixel stripes, saturated disc) measured max 91,
        // mean 4.9 levels, about what either decoder is from the pixels that were encoded. A wrong turn or
        // transpose would be ~100 on average; the lossless cases above pin the exact transforms.
        _output.WriteLine($"ImageSharp vs libjpeg-turbo (4:2:0, q90): max |diff| {worst}, mean {total / actual.Length:F3}");
        Assert.True(total / actual.Length < 8, $"mean |diff| {total / actual.Length}");
    }

    [Fact]
    public void Without_the_option_the_stored_orientation_is_kept()
    {
        var result = HfGolden.Decoder.Decode(HfGolden.ImageBytes("exif6_gray_blocks_120x72.jpg"));

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal((120, 72), (result.Value.Width, result.Value.Height));
    }

    [Fact]
    public void The_oriented_size_is_checked_against_the_limits()
    {
        // Stored 120x72 fits; turned to 72x120 it is taller than 100.
        var decoder = new SafeImageDecoder(new ImageLimits { MaxWidth = 130, MaxHeight = 100 });
        var bytes = HfGolden.ImageBytes("exif6_gray_blocks_120x72.jpg");

        Assert.True(decoder.Decode(bytes).IsSuccess);
        var oriented = decoder.Decode(bytes, new ImageDecodeOptions { ApplyExifOrientation = true });

        Assert.False(oriented.IsSuccess);
        Assert.Equal(MediaErrorCodes.ImageTooLarge, oriented.Error.Code);
    }

    [Fact]
    public void Orientation_reader_survives_truncated_and_corrupted_files()
    {
        var random = new Random(1234);
        foreach (var name in new[] { "exif6_gray_blocks_120x72.jpg", "orientation6_7x5.png" })
        {
            var bytes = HfGolden.ImageBytes(name);
            Assert.Equal(6, ExifOrientation.Read(bytes));
            for (int length = 0; length < Math.Min(bytes.Length, 400); length++)
            {
                int orientation = ExifOrientation.Read(bytes.AsSpan(0, length));
                Assert.InRange(orientation, 1, 8);
            }

            for (int trial = 0; trial < 2000; trial++)
            {
                var corrupted = (byte[])bytes.Clone();
                for (int flips = 0; flips < 4; flips++)
                {
                    corrupted[random.Next(Math.Min(corrupted.Length, 300))] = (byte)random.Next(256);
                }

                Assert.InRange(ExifOrientation.Read(corrupted), 1, 8);
            }
        }
    }

    [Fact]
    public void Files_without_exif_have_orientation_1()
    {
        Assert.Equal(1, ExifOrientation.Read(HfGolden.ImageBytes("noise_64x48.png")));
        Assert.Equal(1, ExifOrientation.Read(MmServe.TestSupport.TestImages.SolidPng(3, 2, 1, 2, 3)));
        Assert.Equal(1, ExifOrientation.Read([]));
        Assert.Equal(1, ExifOrientation.Read("GIF89a"u8));
    }
}
