using System.Buffers.Binary;

namespace MmServe.Media.Images.Structure;

/// <summary>
/// Walks a GIF up to the end of its first frame (the only one decoded): the logical screen size, the first frame's
/// size (which may exceed the screen), and whether the frame's data sub-blocks are all there.
/// </summary>
internal static class GifStructure
{
    private const int HeaderAndScreen = 13;

    public static ImageStructure Read(ReadOnlySpan<byte> bytes)
    {
        var sizes = new List<DeclaredSize>();
        if (bytes.Length < HeaderAndScreen)
        {
            return Truncated(sizes);
        }

        sizes.Add(new DeclaredSize(BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..])));
        int i = HeaderAndScreen + ColourTableBytes(bytes[10]);
        while (i < bytes.Length)
        {
            switch (bytes[i])
            {
                case 0x21:
                    // Extension: introducer, label, sub-blocks.
                    if (i + 2 > bytes.Length || SkipSubBlocks(bytes, i + 2) is not int afterExtension)
                    {
                        return Truncated(sizes);
                    }

                    i = afterExtension;
                    break;
                case 0x2C:
                    // Image descriptor: left, top, width, height, flags; local colour table; LZW code size; sub-blocks.
                    if (i + 10 > bytes.Length)
                    {
                        return Truncated(sizes);
                    }

                    sizes.Add(new DeclaredSize(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i + 5)..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i + 7)..])));
                    int data = i + 10 + ColourTableBytes(bytes[i + 9]) + 1;
                    return new ImageStructure(ImageContainer.Gif, sizes, Truncated: data > bytes.Length || SkipSubBlocks(bytes, data) is null);
                default:
                    // The trailer, or a byte no GIF has here: no frame to decode, which the decoder reports itself.
                    return new ImageStructure(ImageContainer.Gif, sizes, Truncated: false);
            }
        }

        return Truncated(sizes);
    }

    /// <summary>Global or local colour table: present when bit 7 is set, 3 * 2^(n+1) bytes.</summary>
    private static int ColourTableBytes(byte flags) => (flags & 0x80) == 0 ? 0 : 3 << ((flags & 0x07) + 1);

    /// <returns>The index after the terminating empty sub-block, or null when the data ends first.</returns>
    private static int? SkipSubBlocks(ReadOnlySpan<byte> bytes, int start)
    {
        int i = start;
        while (i < bytes.Length)
        {
            int size = bytes[i];
            i += 1 + size;
            if (size == 0)
            {
                return i;
            }
        }

        return null;
    }

    private static ImageStructure Truncated(List<DeclaredSize> sizes) => new(ImageContainer.Gif, sizes, Truncated: true);
}
