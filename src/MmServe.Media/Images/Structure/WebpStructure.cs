using System.Buffers.Binary;

namespace MmServe.Media.Images.Structure;

/// <summary>
/// Walks a WebP's RIFF chunks: the VP8X canvas, each ANMF frame, the VP8 (lossy) and VP8L (lossless) bitstream sizes,
/// and whether the RIFF and every chunk fit in the file. ImageSharp decodes the bitstream at its own size and ignores
/// the canvas, so a 16777216 x 16777216 canvas would otherwise pass.
/// </summary>
internal static class WebpStructure
{
    public static ImageStructure Read(ReadOnlySpan<byte> bytes)
    {
        var sizes = new List<DeclaredSize>();
        long riffEnd = 8L + BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        if (riffEnd > bytes.Length)
        {
            return Truncated(sizes);
        }

        var riff = bytes[..(int)riffEnd];
        int i = 12;
        while (i + 8 <= riff.Length)
        {
            var fourCc = riff.Slice(i, 4);
            long end = i + 8L + BinaryPrimitives.ReadUInt32LittleEndian(riff[(i + 4)..]);
            if (end > riff.Length)
            {
                return Truncated(sizes);
            }

            var payload = riff[(i + 8)..(int)end];
            if (Size(fourCc, payload) is { } size)
            {
                sizes.Add(size);
            }

            // Chunks are padded to an even length.
            i = (int)end + (int)(end & 1);
        }

        return new ImageStructure(ImageContainer.Webp, sizes, Truncated: false);
    }

    private static DeclaredSize? Size(ReadOnlySpan<byte> fourCc, ReadOnlySpan<byte> payload)
    {
        if (fourCc.SequenceEqual("VP8X"u8) && payload.Length >= 10)
        {
            // Flags, 3 reserved bytes, then canvas width - 1 and height - 1 in 24 bits each.
            return new DeclaredSize(UInt24(payload[4..]) + 1, UInt24(payload[7..]) + 1);
        }

        if (fourCc.SequenceEqual("ANMF"u8) && payload.Length >= 12)
        {
            // Frame x / 2, y / 2, then width - 1 and height - 1.
            return new DeclaredSize(UInt24(payload[6..]) + 1, UInt24(payload[9..]) + 1);
        }

        if (fourCc.SequenceEqual("VP8 "u8) && payload.Length >= 10)
        {
            // Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height (2 scaling bits each).
            return new DeclaredSize(BinaryPrimitives.ReadUInt16LittleEndian(payload[6..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]) & 0x3FFF);
        }

        if (fourCc.SequenceEqual("VP8L"u8) && payload.Length >= 5)
        {
            // Signature 0x2F, then width - 1 and height - 1 in 14 bits each.
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]);
            return new DeclaredSize((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
        }

        return null;
    }

    private static long UInt24(ReadOnlySpan<byte> b) => b[0] | (b[1] << 8) | (b[2] << 16);

    private static ImageStructure Truncated(List<DeclaredSize> sizes) => new(ImageContainer.Webp, sizes, Truncated: true);
}
