using System.Buffers.Binary;

namespace MmServe.Media.Images.Structure;

/// <summary>
/// Walks a JPEG's markers from SOI to EOI: the size in every frame header (SOF0-15 but DHT/JPG/DAC), and whether the file
/// reaches EOI. The entropy-coded data after each SOS is skipped up to the next marker (0xFF not followed by a stuffed
/// 0x00 or a restart marker). A file without EOI is truncated, as PIL (with LOAD_TRUNCATED_IMAGES off) sees it;
/// bytes after EOI are ignored.
/// </summary>
internal static class JpegStructure
{
    public static ImageStructure Read(ReadOnlySpan<byte> bytes)
    {
        var sizes = new List<DeclaredSize>();
        int i = 2;
        while (true)
        {
            // Junk before a marker is skipped, as libjpeg does with a warning; fill bytes (repeated 0xFF) too.
            int ff = bytes[i..].IndexOf((byte)0xFF);
            if (ff < 0)
            {
                return Truncated(sizes);
            }

            i += ff;
            while (i < bytes.Length && bytes[i] == 0xFF)
            {
                i++;
            }

            if (i >= bytes.Length)
            {
                return Truncated(sizes);
            }

            byte marker = bytes[i++];
            if (marker == 0xD9)
            {
                return new ImageStructure(ImageContainer.Jpeg, sizes, Truncated: false);
            }

            if (marker is 0x00 or 0x01 or 0xD8 or (>= 0xD0 and <= 0xD7))
            {
                continue;
            }

            if (i + 2 > bytes.Length)
            {
                return Truncated(sizes);
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
            if (length < 2 || i + length > bytes.Length)
            {
                return Truncated(sizes);
            }

            if (IsFrameHeader(marker) && length >= 7)
            {
                // Length, precision, then height and width.
                sizes.Add(new DeclaredSize(BinaryPrimitives.ReadUInt16BigEndian(bytes[(i + 5)..]), BinaryPrimitives.ReadUInt16BigEndian(bytes[(i + 3)..])));
            }

            i += length;
            if (marker == 0xDA && SkipEntropyCodedData(bytes, i) is int next)
            {
                i = next;
            }
            else if (marker == 0xDA)
            {
                return Truncated(sizes);
            }
        }
    }

    /// <returns>The index of the 0xFF that starts the next marker, or null when the data ends first.</returns>
    private static int? SkipEntropyCodedData(ReadOnlySpan<byte> bytes, int start)
    {
        int i = start;
        while (true)
        {
            int ff = bytes[i..].IndexOf((byte)0xFF);
            if (ff < 0 || i + ff + 1 >= bytes.Length)
            {
                return null;
            }

            i += ff;
            byte next = bytes[i + 1];
            if (next == 0x00 || next == 0xFF || (next >= 0xD0 && next <= 0xD7))
            {
                // A stuffed 0xFF, a fill byte, or a restart marker: still inside the scan.
                i += next == 0xFF ? 1 : 2;
                continue;
            }

            return i;
        }
    }

    /// <summary>SOF0-3, 5-7, 9-11, 13-15 (0xC4 is DHT, 0xC8 JPG, 0xCC DAC).</summary>
    private static bool IsFrameHeader(byte marker) => marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC);

    private static ImageStructure Truncated(List<DeclaredSize> sizes) => new(ImageContainer.Jpeg, sizes, Truncated: true);
}
