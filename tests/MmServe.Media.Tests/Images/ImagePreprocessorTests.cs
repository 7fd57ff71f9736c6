using MmServe.Media.Images;

namespace MmServe.Media.Tests.Images;

public sealed class ImagePreprocessorTests
{
    private const double ModelRescale = 0.00392156862745098;

    [Fact]
    public void Identity_resize_keeps_pixels_and_normalization_is_exact()
    {
        var image = RandomImage(5, 3, seed: 1);
        double[] mean = [0.5, 0.4, 0.3];
        double[] std = [0.25, 0.2, 0.1];
        var preprocessor = new ImagePreprocessor(Spec(5, 3, ModelRescale, mean, std));

        var output = preprocessor.Preprocess(image);

        var pixels = image.Pixels.Span;
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < 3; y++)
            {
                for (int x = 0; x < 5; x++)
                {
                    float value = pixels[(((y * 5) + x) * 3) + c];
                    float expected = ((value * (float)ModelRescale) - (float)mean[c]) / (float)std[c];
                    Assert.Equal(expected, output[(c * 15) + (y * 5) + x]);
                }
            }
        }
    }

    [Fact]
    public void Downscale_of_a_constant_image_stays_constant()
    {
        byte[] rgb = [200, 100, 50];
        var image = new RgbImage(100, 60, Enumerable.Repeat(rgb, 100 * 60).SelectMany(pixel => pixel).ToArray());
        var preprocessor = new ImagePreprocessor(Spec(7, 5, ModelRescale, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]));

        var output = preprocessor.Preprocess(image);

        for (int c = 0; c < 3; c++)
        {
            double expected = ((rgb[c] * ModelRescale) - 0.5) / 0.25;
            foreach (float value in output.AsSpan(c * 35, 35))
            {
                Assert.Equal(expected, value, 1e-5);
            }
        }
    }

    [Fact]
    public void Horizontal_4_to_2_matches_hand_computed_weights()
    {
        // Weights 3/7, 3/7, 1/7 over inputs 0..2 and 1/7, 3/7, 3/7 over inputs 1..3 (see AntialiasResizeWeightsTests).
        var output = RawResize(Row(10, 50, 90, 250), width: 4, height: 1, outWidth: 2, outHeight: 1);

        Assert.Equal(((3 * 10) + (3 * 50) + 90) / 7.0, output[0], 4);
        Assert.Equal((50 + (3 * 90) + (3 * 250)) / 7.0, output[1], 4);
    }

    [Fact]
    public void Vertical_4_to_2_matches_hand_computed_weights()
    {
        var output = RawResize(Row(10, 50, 90, 250), width: 1, height: 4, outWidth: 1, outHeight: 2);

        Assert.Equal(((3 * 10) + (3 * 50) + 90) / 7.0, output[0], 4);
        Assert.Equal((50 + (3 * 90) + (3 * 250)) / 7.0, output[1], 4);
    }

    [Fact]
    public void Upscale_2_to_3_matches_hand_computed_weights()
    {
        // Outputs: input 0, the mean of both inputs, input 1.
        var horizontal = RawResize(Row(20, 120), width: 2, height: 1, outWidth: 3, outHeight: 1);
        var vertical = RawResize(Row(20, 120), width: 1, height: 2, outWidth: 1, outHeight: 3);

        Assert.Equal([20f, 70f, 120f], horizontal.Take(3));
        Assert.Equal([20f, 70f, 120f], vertical.Take(3));
    }

    [Fact]
    public void Two_dimensional_4x4_to_2x2_is_the_separable_product_of_the_hand_weights()
    {
        double[,] weights = { { 3 / 7.0, 3 / 7.0, 1 / 7.0, 0 }, { 0, 1 / 7.0, 3 / 7.0, 3 / 7.0 } };
        byte[] gray = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 255];

        var output = RawResize(gray, width: 4, height: 4, outWidth: 2, outHeight: 2);

        for (int oy = 0; oy < 2; oy++)
        {
            for (int ox = 0; ox < 2; ox++)
            {
                double expected = 0;
                for (int y = 0; y < 4; y++)
                {
                    for (int x = 0; x < 4; x++)
                    {
                        expected += weights[oy, y] * weights[ox, x] * gray[(y * 4) + x];
                    }
                }

                Assert.Equal(expected, output[(oy * 2) + ox], 4);
            }
        }
    }

    [Theory]
    [InlineData(37, 23, 8, 5)]
    [InlineData(5, 3, 11, 7)]
    [InlineData(13, 9, 4, 12)]
    [InlineData(640, 480, 64, 64)]
    [InlineData(64, 64, 64, 17)]
    public void Matches_a_double_precision_reference_of_the_spec_within_1e5(int width, int height, int outWidth, int outHeight)
    {
        var image = RandomImage(width, height, seed: width * 31 + height);
        double[] mean = [0.48, 0.46, 0.41];
        double[] std = [0.27, 0.26, 0.28];
        var preprocessor = new ImagePreprocessor(Spec(outWidth, outHeight, ModelRescale, mean, std));

        var output = preprocessor.Preprocess(image);
        var expected = ReferenceImplementation.Preprocess(image, outWidth, outHeight, ModelRescale, mean, std);

        Assert.Equal(expected.Length, output.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - output[i]) < 1e-5, $"Index {i}: expected {expected[i]}, got {output[i]}.");
        }
    }

    [Fact]
    public void Writes_only_its_slot_of_a_batch_buffer()
    {
        var image = RandomImage(9, 7, seed: 3);
        var preprocessor = new ImagePreprocessor(Spec(4, 4, ModelRescale, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]));
        int length = preprocessor.OutputLength;
        var batch = Enumerable.Repeat(float.NaN, 3 * length).ToArray();

        preprocessor.Preprocess(image, batch.AsSpan(length, length));

        Assert.Equal(48, length);
        Assert.All(batch.AsSpan(0, length).ToArray(), value => Assert.True(float.IsNaN(value)));
        Assert.All(batch.AsSpan(2 * length, length).ToArray(), value => Assert.True(float.IsNaN(value)));
        Assert.Equal(preprocessor.Preprocess(image), batch.AsSpan(length, length).ToArray());
    }

    [Fact]
    public void Destination_of_the_wrong_length_is_rejected()
    {
        var preprocessor = new ImagePreprocessor(Spec(4, 4, 1, [0, 0, 0], [1, 1, 1]));

        Assert.Throws<ArgumentException>(() => preprocessor.Preprocess(RandomImage(4, 4, seed: 0), new float[47]));
    }

    [Fact]
    public void Unsupported_resize_mode_is_rejected_at_construction()
    {
        var spec = Spec(4, 4, 1, [0, 0, 0], [1, 1, 1]) with { Resize = "bicubic" };

        var error = Assert.Throws<ArgumentException>(() => new ImagePreprocessor(spec));

        Assert.Contains("'bicubic'", error.Message);
        Assert.Contains("bilinear_antialias", error.Message);
    }

    [Fact]
    public void Malformed_mean_or_std_is_rejected_at_construction()
    {
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(Spec(4, 4, 1, [0, 0], [1, 1, 1])));
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(Spec(4, 4, 1, [0, 0, 0], [1, 0, 1])));
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(Spec(0, 4, 1, [0, 0, 0], [1, 1, 1])));
    }

    [Theory]
    [InlineData(9, 7, 4, 3)] // resized
    [InlineData(5, 3, 5, 3)] // identity size
    public void Bgr_is_the_rgb_tensor_with_its_channel_planes_reversed(int width, int height, int outWidth, int outHeight)
    {
        var image = RandomImage(width, height, seed: 5);
        var rgb = new ImagePreprocessor(Spec(outWidth, outHeight, ModelRescale, [0.5, 0.4, 0.3], [0.25, 0.2, 0.1])).Preprocess(image);

        var bgr = new ImagePreprocessor(Spec(outWidth, outHeight, ModelRescale, [0.5, 0.4, 0.3], [0.25, 0.2, 0.1])
            with { ChannelOrder = ImagePreprocessingSpec.Bgr }).Preprocess(image);

        // Mean and std stay per colour, so the values are bit-identical, only their channel moves.
        int plane = outWidth * outHeight;
        Assert.Equal(rgb.AsSpan(2 * plane, plane).ToArray(), bgr.AsSpan(0, plane).ToArray());
        Assert.Equal(rgb.AsSpan(plane, plane).ToArray(), bgr.AsSpan(plane, plane).ToArray());
        Assert.Equal(rgb.AsSpan(0, plane).ToArray(), bgr.AsSpan(2 * plane, plane).ToArray());
        Assert.NotEqual(rgb, bgr);
    }

    [Theory]
    [InlineData(ImagePreprocessingSpec.Rgb, new[] { 0, 1, 2 })]
    [InlineData(ImagePreprocessingSpec.Bgr, new[] { 2, 1, 0 })]
    public void Nhwc_is_the_rgb_nchw_tensor_permuted(string channelOrder, int[] colourOfChannel)
    {
        const int outWidth = 6, outHeight = 4;
        var image = RandomImage(11, 8, seed: 9);
        var baseSpec = Spec(outWidth, outHeight, ModelRescale, [0.48, 0.46, 0.41], [0.27, 0.26, 0.28]);
        var nchw = new ImagePreprocessor(baseSpec).Preprocess(image);

        var nhwc = new ImagePreprocessor(baseSpec with { ChannelOrder = channelOrder, Layout = ImagePreprocessingSpec.Nhwc }).Preprocess(image);

        Assert.Equal(nchw.Length, nhwc.Length);
        int plane = outWidth * outHeight;
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    float expected = nchw[(colourOfChannel[c] * plane) + (y * outWidth) + x];
                    Assert.Equal(expected, nhwc[(((y * outWidth) + x) * 3) + c]);
                }
            }
        }
    }

    [Fact]
    public void Nhwc_writes_only_its_slot_of_a_batch_buffer()
    {
        var image = RandomImage(9, 7, seed: 3);
        var preprocessor = new ImagePreprocessor(Spec(4, 4, ModelRescale, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]) with { Layout = ImagePreprocessingSpec.Nhwc });
        int length = preprocessor.OutputLength;
        var batch = Enumerable.Repeat(float.NaN, 2 * length).ToArray();

        preprocessor.Preprocess(image, batch.AsSpan(length, length));

        Assert.All(batch.AsSpan(0, length).ToArray(), value => Assert.True(float.IsNaN(value)));
        Assert.Equal(preprocessor.Preprocess(image), batch.AsSpan(length, length).ToArray());
    }

    [Theory]
    [InlineData("rgba", ImagePreprocessingSpec.Nchw, "channel_order 'rgba'")]
    [InlineData("RGB", ImagePreprocessingSpec.Nchw, "channel_order 'RGB'")]
    [InlineData(ImagePreprocessingSpec.Rgb, "chw", "layout 'chw'")]
    public void Unsupported_channel_order_or_layout_is_rejected_at_construction(string channelOrder, string layout, string expected)
    {
        var spec = Spec(4, 4, 1, [0, 0, 0], [1, 1, 1]) with { ChannelOrder = channelOrder, Layout = layout };

        var error = Assert.Throws<ArgumentException>(() => new ImagePreprocessor(spec));

        Assert.Contains(expected, error.Message);
    }

    private static ImagePreprocessingSpec Spec(int width, int height, double rescale, double[] mean, double[] std) =>
        new(width, height, ImagePreprocessingSpec.BilinearAntialias, rescale, mean, std);

    /// <summary>Resizes a gray image (same value in R, G, B) with identity normalization; returns channel R.</summary>
    private static float[] RawResize(byte[] gray, int width, int height, int outWidth, int outHeight)
    {
        var rgb = gray.SelectMany(value => new[] { value, value, value }).ToArray();
        var preprocessor = new ImagePreprocessor(Spec(outWidth, outHeight, 1, [0, 0, 0], [1, 1, 1]));
        var output = preprocessor.Preprocess(new RgbImage(width, height, rgb));

        int plane = outWidth * outHeight;
        Assert.Equal(output.AsSpan(0, plane).ToArray(), output.AsSpan(plane, plane).ToArray());
        return output[..plane];
    }

    private static byte[] Row(params byte[] values) => values;

    private static RgbImage RandomImage(int width, int height, int seed)
    {
        var bytes = new byte[width * height * 3];
        new Random(seed).NextBytes(bytes);
        return new RgbImage(width, height, bytes);
    }
}
