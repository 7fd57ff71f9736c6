using MmServe.Media.Images;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;

namespace MmServe.Media.Tests.Images;

public sealed class SafeImageDecoderTests
{
    private readonly SafeImageDecoder _decoder = new();

    [Fact]
    public void Configuration_registers_only_png_jpeg_webp_and_gif()
    {
        var names = _decoder.Configuration.ImageFormats.Select(format => format.Name).Order().ToArray();

        Assert.Equal(["GIF", "JPEG", "PNG", "Webp"], names, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public void Configured_decoders_ignore_metadata_and_gif_decodes_only_the_first_frame()
    {
        var formats = _decoder.Configuration.ImageFormatsManager;

        var gif = Assert.IsType<GifDecoder>(formats.FindDecoder(GifFormat.Instance));
        Assert.Equal(FrameDecodingMode.First, gif.DecodingMode);
        Assert.True(gif.IgnoreMetadata);
        Assert.True(Assert.IsType<PngDecoder>(formats.FindDecoder(PngFormat.Instance)).IgnoreMetadata);
        Assert.True(Assert.IsType<JpegDecoder>(formats.FindDecoder(JpegFormat.Instance)).IgnoreMetadata);
        Assert.True(Assert.IsType<WebpDecoder>(formats.FindDecoder(WebpFormat.Instance)).IgnoreMetadata);
    }

    public static TheoryData<string> LosslessFormats => ["png", "webp"];

    [Theory]
    [MemberData(nameof(LosslessFormats))]
    public void Lossless_round_trip_returns_the_exact_pixels(string format)
    {
        using var source = TestImages.Gradient(17, 9);
        IImageEncoder encoder = format == "png"
            ? new PngEncoder()
            : new WebpEncoder { FileFormat = WebpFileFormatType.Lossless };

        var result = _decoder.Decode(TestImages.Encode(source, encoder));

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(17, result.Value.Width);
        Assert.Equal(9, result.Value.Height);
        Assert.Equal(TestImages.RgbBytes(source), result.Value.Pixels.ToArray());
    }

    [Fact]
    public void Jpeg_round_trip_returns_close_pixels()
    {
        using var source = TestImages.Gradient(32, 16);
        var encoded = TestImages.Encode(source, new JpegEncoder { Quality = 100, ColorType = JpegColorType.YCbCrRatio444 });

        var result = _decoder.Decode(encoded);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal((32, 16), (result.Value.Width, result.Value.Height));
        var expected = TestImages.RgbBytes(source);
        var actual = result.Value.Pixels.ToArray();
        double meanAbsoluteError = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanAbsoluteError < 3, $"JPEG mean absolute error {meanAbsoluteError} is too large.");
    }

    [Fact]
    public void Gif_round_trip_returns_the_exact_pixels_of_a_small_palette_image()
    {
        Rgb24[] palette = [new(255, 0, 0), new(0, 255, 0), new(0, 0, 255), new(255, 255, 255)];
        using var source = new Image<Rgb24>(8, 6);
        for (int y = 0; y < 6; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                source[x, y] = palette[(x + (2 * y)) % palette.Length];
            }
        }

        var result = _decoder.Decode(TestImages.Encode(source, new GifEncoder()));

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(TestImages.RgbBytes(source), result.Value.Pixels.ToArray());
    }

    [Fact]
    public void Gif_with_two_frames_yields_the_first_frame()
    {
        using var animation = new Image<Rgba32>(4, 3, new Rgba32(255, 0, 0));
        animation.Frames.AddFrame(Enumerable.Repeat(new Rgba32(0, 0, 255), 4 * 3).ToArray());
        var encoded = TestImages.Encode(animation, new GifEncoder());

        // Guard the fixture itself: a full decoder really sees two different frames.
        using (var allFrames = Image.Load<Rgb24>(encoded))
        {
            Assert.Equal(2, allFrames.Frames.Count);
            Assert.Equal(new Rgb24(0, 0, 255), allFrames.Frames[1][0, 0]);
        }

        var result = _decoder.Decode(encoded);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(Enumerable.Repeat<byte[]>([255, 0, 0], 4 * 3).SelectMany(pixel => pixel), result.Value.Pixels.ToArray());
    }

    [Fact]
    public void Alpha_is_dropped_keeping_the_stored_rgb_values()
    {
        using var source = new Image<Rgba32>(2, 1);
        source[0, 0] = new Rgba32(10, 20, 30, 0);
        source[1, 0] = new Rgba32(200, 100, 50, 128);
        var encoded = TestImages.Encode(source, new PngEncoder { ColorType = PngColorType.RgbWithAlpha });

        var result = _decoder.Decode(encoded);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(new byte[] { 10, 20, 30, 200, 100, 50 }, result.Value.Pixels.ToArray());
    }

    [Fact]
    public void Png_header_claiming_50000_by_50000_is_rejected_before_decoding_without_allocating()
    {
        var bomb = TestImages.PngHeaderOnly(50_000, 50_000);
        using (var warmUp = TestImages.Gradient(2, 2))
        {
            Assert.True(_decoder.Decode(TestImages.Encode(warmUp, new PngEncoder())).IsSuccess);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = _decoder.Decode(bomb);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.False(result.IsSuccess);
        Assert.Equal(MediaErrorCodes.ImageTooLarge, result.Error.Code);
        Assert.Contains("50000x50000", result.Error.Message);
        Assert.Contains("8192", result.Error.Message);
        Assert.True(allocated < 10 * 1024 * 1024, $"Rejecting the header allocated {allocated} bytes.");
    }

    [Fact]
    public void Width_over_max_side_is_too_large_even_when_the_pixel_count_is_small()
    {
        var decoder = new SafeImageDecoder(new ImageLimits { MaxWidth = 100, MaxAspectRatio = 1000 });

        var result = decoder.Decode(TestImages.PngHeaderOnly(101, 1));

        Assert.Equal(MediaErrorCodes.ImageTooLarge, result.Error?.Code);
    }

    [Fact]
    public void Pixel_count_over_max_pixels_is_too_large()
    {
        var decoder = new SafeImageDecoder(new ImageLimits { MaxPixels = 99 });
        using var image = TestImages.Gradient(10, 10);

        var result = decoder.Decode(TestImages.Encode(image, new PngEncoder()));

        Assert.Equal(MediaErrorCodes.ImageTooLarge, result.Error?.Code);
        Assert.Contains("99 pixels in total", result.Error?.Message);
    }

    [Fact]
    public void Encoded_size_over_max_bytes_is_too_large()
    {
        var decoder = new SafeImageDecoder(new ImageLimits { MaxBytes = 16 });
        using var image = TestImages.Gradient(8, 8);

        var result = decoder.Decode(TestImages.Encode(image, new PngEncoder()));

        Assert.Equal(MediaErrorCodes.ImageTooLarge, result.Error?.Code);
        Assert.Contains("16 bytes", result.Error?.Message);
    }

    [Fact]
    public void Allocation_over_the_allocator_limit_is_too_large()
    {
        // 1024x1024 RGB24 needs a 3 MB pixel buffer; the header checks pass, the allocator refuses.
        var decoder = new SafeImageDecoder(new ImageLimits { AllocationLimitMegabytes = 1 });
        using var image = new Image<Rgb24>(1024, 1024, new Rgb24(1, 2, 3));

        var result = decoder.Decode(TestImages.Encode(image, new PngEncoder()));

        Assert.Equal(MediaErrorCodes.ImageTooLarge, result.Error?.Code);
        Assert.Contains("1 MB", result.Error?.Message);
    }

    [Fact]
    public void Extreme_aspect_ratio_is_rejected()
    {
        using var strip = new Image<Rgb24>(1, 5000);

        var result = _decoder.Decode(TestImages.Encode(strip, new PngEncoder()));

        Assert.Equal(MediaErrorCodes.ImageAspectRatio, result.Error?.Code);
        Assert.Contains("50:1", result.Error?.Message);
    }

    [Fact]
    public void Aspect_ratio_exactly_at_the_limit_is_accepted()
    {
        using var strip = new Image<Rgb24>(50, 1);

        var result = _decoder.Decode(TestImages.Encode(strip, new PngEncoder()));

        Assert.True(result.IsSuccess, result.ToString());
    }

    [Fact]
    public void Non_image_bytes_are_an_invalid_image()
    {
        var result = _decoder.Decode("this is definitely not an image, just some text"u8.ToArray());

        Assert.Equal(MediaErrorCodes.InvalidImage, result.Error?.Code);
    }

    [Fact]
    public void Empty_input_is_an_invalid_image()
    {
        Assert.Equal(MediaErrorCodes.InvalidImage, _decoder.Decode(ReadOnlyMemory<byte>.Empty).Error?.Code);
    }

    [Fact]
    public void Truncated_png_is_an_invalid_image()
    {
        using var image = TestImages.Gradient(64, 64);
        var encoded = TestImages.Encode(image, new PngEncoder());

        var result = _decoder.Decode(encoded.AsMemory(0, encoded.Length / 2));

        Assert.Equal(MediaErrorCodes.InvalidImage, result.Error?.Code);
    }

    [Fact]
    public void Png_header_with_zero_width_is_an_invalid_image()
    {
        var result = _decoder.Decode(TestImages.PngHeaderOnly(0, 10));

        Assert.Equal(MediaErrorCodes.InvalidImage, result.Error?.Code);
    }

    [Fact]
    public void Tiff_is_an_unsupported_format()
    {
        var result = _decoder.Decode(TestImages.MinimalTiff());

        Assert.Equal(MediaErrorCodes.UnsupportedImageFormat, result.Error?.Code);
        Assert.Contains("TIFF", result.Error?.Message);
    }

    [Fact]
    public void Bmp_is_an_unsupported_format()
    {
        using var image = TestImages.Gradient(4, 4);

        var result = _decoder.Decode(TestImages.Encode(image, new BmpEncoder()));

        Assert.Equal(MediaErrorCodes.UnsupportedImageFormat, result.Error?.Code);
        Assert.Contains("BMP", result.Error?.Message);
    }

    [Fact]
    public void Non_seekable_stream_is_read_and_decoded()
    {
        using var image = TestImages.Gradient(5, 4);
        using var stream = new NonSeekableStream(TestImages.Encode(image, new PngEncoder()));

        var result = _decoder.Decode(stream);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(TestImages.RgbBytes(image), result.Value.Pixels.ToArray());
    }

    [Fact]
    public async Task Async_stream_longer_than_max_bytes_is_too_large()
    {
        var decoder = new SafeImageDecoder(new ImageLimits { MaxBytes = 100 });
        using var stream = new NonSeekableStream(new byte[101]);

        var result = await decoder.DecodeAsync(stream);

        Assert.Equal(MediaErrorCodes.ImageTooLarge, result.Error?.Code);
    }

    [Fact]
    public async Task Async_stream_is_decoded()
    {
        using var image = TestImages.Gradient(3, 3);
        using var stream = new NonSeekableStream(TestImages.Encode(image, new PngEncoder()));

        var result = await _decoder.DecodeAsync(stream);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(TestImages.RgbBytes(image), result.Value.Pixels.ToArray());
    }

    [Fact]
    public void Png_data_url_is_decoded()
    {
        using var image = TestImages.Gradient(6, 2);
        string url = "data:image/png;base64," + Convert.ToBase64String(TestImages.Encode(image, new PngEncoder()));

        var result = _decoder.DecodeDataUrl(url);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(TestImages.RgbBytes(image), result.Value.Pixels.ToArray());
    }

    [Fact]
    public void Data_url_with_invalid_base64_is_an_error()
    {
        var result = _decoder.DecodeDataUrl("data:image/png;base64,iVBORw0KGgo*not*base64*");

        Assert.Equal(MediaErrorCodes.InvalidDataUrl, result.Error?.Code);
        Assert.Contains("base64", result.Error?.Message);
    }

    [Fact]
    public void Data_url_with_a_non_image_media_type_is_rejected()
    {
        var result = _decoder.DecodeDataUrl("data:text/plain;base64,aGVsbG8=");

        Assert.Equal(MediaErrorCodes.UnsupportedMediaType, result.Error?.Code);
    }

    [Fact]
    public void Invalid_limits_fail_at_construction()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SafeImageDecoder(new ImageLimits { MaxPixels = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SafeImageDecoder(new ImageLimits { MaxAspectRatio = 0.5 }));
    }
}
