using System.Buffers.Binary;
using MmServe.Media.Images;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace MmServe.Media.Tests.Images;

/// <summary>
/// Decoders fill what a truncated file lacks (ImageSharp's JPEG decoder paints it grey) and look at only some of the
/// sizes a file declares, so the decoder walks each format's structure first: a file whose data ends before its image
/// does is invalid_image (as PIL, whose processors the models were trained with, refuses it), and every declared size
/// — PNG IHDR, each JPEG SOF, the GIF screen and first frame, the WebP VP8X canvas and its bitstream — is held to the
/// limits before a pixel buffer exists.
/// </summary>
public sealed class ImageStructureTests
{
    private readonly SafeImageDecoder _decoder = new();

    [Fact]
    public void First_half_of_a_jpeg_is_an_invalid_image()
    {
        var jpeg = Jpeg(64, 64);

        var result = _decoder.Decode(jpeg.AsMemory(0, jpeg.Length / 2));

        Assert.Equal(MediaErrorCodes.InvalidImage, result.Error?.Code);
        Assert.Contains("truncated", result.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Jpeg_without_its_end_marker_is_an_invalid_image()
    {
        var jpeg = Jpeg(16, 16);

        var result = _decoder.Decode(jpeg.AsMemory(0, jpeg.Length - 2));

        Assert.Equal(MediaErrorCodes.InvalidImage, result.Error?.Code);
    }

    [Fact]
    public void Jpeg_with_bytes_after_its_end_marker_is_decoded()
    {
        // Some cameras and editors append data after EOI; decoders (and PIL) ignore it.
        byte[] jpeg = [.. Jpeg(16, 16), .. "trailing data"u8];

        var result = _decoder.Decode(jpeg);

        Assert.True(result.IsSuccess, result.ToString());
    }

    [Fact]
    public void Jpeg_whose_second_frame_header_claims_60000_rows_is_too_large()
    {
        // A second SOF0 segment inserted before the scan: decoders use one of them; the limits apply to both.
        var jpeg = Jpeg(16, 16);
        byte[] sof = [0xFF, 0xC0, 0x00, 0x11, 0x08, 0xEA, 0x60, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01];
        int sos = IndexOfMarker(jpeg, 0xDA);
        byte[] twoFrames = [.. jpeg[..sos], .. sof, .. jpeg[sos..]];

        var result = _decoder.Decode(twoFrames);

        Assert.Equal(MediaErrorCodes.ImageTooLarge, result.Error?.Code);
        Assert.Contains("16x60000", result.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Webp_whose_vp8x_canvas_is_16777216_squared_is_too_large()
    {
        var webp = ExtendedWebp(Webp(8, 8), canvasWidth: 16_777_216, canvasHeight: 16_777_216);

        var result = _decoder.Decode(webp);

        Assert.Equal(MediaErrorCodes.ImageTooLarge, result.Error?.Code);
        Assert.Contains("16777216x16777216", result.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Webp_whose_vp8x_canvas_matches_its_bitstream_is_decoded()
    {
        var webp = ExtendedWebp(Webp(8, 8), canvasWidth: 8, canvasHeight: 8);

        var result = _decoder.Decode(webp);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal((8, 8), (result.Value.Width, result.Value.Height));
    }

    [Fact]
    public void Webp_cut_inside_its_bitstream_is_an_invalid_image()
    {
        var webp = Webp(32, 32, lossless: false);

        var result = _decoder.Decode(webp.AsMemory(0, (webp.Length * 2) / 3));

        Assert.Equal(MediaErrorCodes.InvalidImage, result.Error?.Code);
    }

    [Fact]
    public void Gif_whose_first_frame_claims_65535_squared_on_a_1x1_screen_is_too_large()
    {
        byte[] gif =
        [
            .. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, // 1x1 screen, 2-colour global table
            0, 0, 0, 255, 255, 255,
            0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, // image descriptor: 65535x65535
            2, 2, 0x44, 0x01, 0, // LZW minimum code size 2, one sub-block, terminator
            0x3B,
        ];

        var result = _decoder.Decode(gif);

        Assert.Equal(MediaErrorCodes.ImageTooLarge, result.Error?.Code);
        Assert.Contains("65535x65535", result.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gif_cut_inside_its_first_frame_is_an_invalid_image()
    {
        using var image = TestImages.Gradient(48, 48);
        var gif = TestImages.Encode(image, new GifEncoder());

        var result = _decoder.Decode(gif.AsMemory(0, gif.Length / 2));

        Assert.Equal(MediaErrorCodes.InvalidImage, result.Error?.Code);
    }

    [Fact]
    public void Png_whose_image_data_stops_at_a_chunk_boundary_is_an_invalid_image()
    {
        // The zlib stream split over two IDAT chunks; the second is dropped but IEND follows, so every chunk is whole.
        using var image = TestImages.Gradient(64, 64);
        var png = TestImages.Encode(image, new PngEncoder { CompressionLevel = PngCompressionLevel.NoCompression });
        var (before, idat, after) = SplitIdat(png);
        byte[] firstHalf = [.. before, .. PngChunk("IDAT", idat[..(idat.Length / 2)]), .. after];

        var result = _decoder.Decode(firstHalf);

        Assert.Equal(MediaErrorCodes.InvalidImage, result.Error?.Code);
    }

    [Fact]
    public void Png_with_its_image_data_in_several_chunks_is_decoded()
    {
        using var image = TestImages.Gradient(64, 64);
        var png = TestImages.Encode(image, new PngEncoder());
        var (before, idat, after) = SplitIdat(png);
        int half = idat.Length / 2;
        byte[] twoChunks = [.. before, .. PngChunk("IDAT", idat[..half]), .. PngChunk("IDAT", idat[half..]), .. after];

        var result = _decoder.Decode(twoChunks);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(TestImages.RgbBytes(image), result.Value.Pixels.ToArray());
    }

    private static byte[] Jpeg(int width, int height)
    {
        using var image = TestImages.Gradient(width, height);
        return TestImages.Encode(image, new JpegEncoder { Quality = 90 });
    }

    private static byte[] Webp(int width, int height, bool lossless = true)
    {
        using var image = TestImages.Gradient(width, height);
        return TestImages.Encode(image, new WebpEncoder { FileFormat = lossless ? WebpFileFormatType.Lossless : WebpFileFormatType.Lossy });
    }

    /// <summary>The simple-format WebP's image chunk behind a VP8X chunk declaring the given canvas.</summary>
    private static byte[] ExtendedWebp(byte[] simple, int canvasWidth, int canvasHeight)
    {
        var vp8x = new byte[18];
        "VP8X"u8.CopyTo(vp8x);
        BinaryPrimitives.WriteInt32LittleEndian(vp8x.AsSpan(4), 10);
        WriteUInt24(vp8x.AsSpan(12), canvasWidth - 1);
        WriteUInt24(vp8x.AsSpan(15), canvasHeight - 1);
        var imageChunk = simple[12..];
        var riff = new byte[12];
        "RIFF"u8.CopyTo(riff);
        BinaryPrimitives.WriteInt32LittleEndian(riff.AsSpan(4), 4 + vp8x.Length + imageChunk.Length);
        "WEBP"u8.CopyTo(riff.AsSpan(8));
        return [.. riff, .. vp8x, .. imageChunk];
    }

    private static void WriteUInt24(Span<byte> destination, int value)
    {
        destination[0] = (byte)value;
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)(value >> 16);
    }

    private static int IndexOfMarker(byte[] jpeg, byte marker)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"no marker FF{marker:X2}");
    }

    /// <summary>The PNG around its IDAT chunks, and their data joined.</summary>
    private static (byte[] Before, byte[] Idat, byte[] After) SplitIdat(byte[] png)
    {
        int at = 8, first = -1, end = -1;
        var idat = new List<byte>();
        while (at < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            if (type == "IDAT")
            {
                first = first < 0 ? at : first;
                idat.AddRange(png.AsSpan(at + 8, length).ToArray());
                end = at + 12 + length;
            }

            at += 12 + length;
        }

        return (png[..first], [.. idat], png[end..]);
    }

    private static byte[] PngChunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), TestImages.Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }
}
