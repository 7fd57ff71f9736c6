using System.Buffers.Binary;

namespace MmServe.Media.Images.Structure;

/// <summary>
/// Walks a PNG's chunks: the IHDR size, and whether every chunk up to IEND fits in the file (a file that simply stops
/// after its last whole chunk is accepted, as PIL accepts a missing IEND). <see cref="PngImageData"/> then checks that
/// the IDAT stream holds every row.
/// </summary>
internal static class PngStructure
{
    private const int SignatureBytes = 8;
    private const int ChunkOverhead = 12;

    public static ImageStructure Read(ReadOnlySpan<byte> bytes)
    {
        var sizes = new List<DeclaredSize>();
        var chunks = Chunks(bytes, out bool truncated);
        foreach (var chunk in chunks)
        {
            if (chunk.Type == "IHDR" && chunk.Length >= 8)
            {
                var data = bytes.Slice(chunk.DataStart, 8);
                sizes.Add(new DeclaredSize(BinaryPrimitives.ReadUInt32BigEndian(data), BinaryPrimitives.ReadUInt32BigEndian(data[4..])));
            }
        }

        return new ImageStructure(ImageContainer.Png, sizes, truncated);
    }

    /// <summary>Every whole chunk up to and including IEND; <paramref name="truncated"/> when one runs past the end.</summary>
    public static List<PngChunk> Chunks(ReadOnlySpan<byte> bytes, out bool truncated)
    {
        var chunks = new List<PngChunk>();
        truncated = false;
        int i = SignatureBytes;
        while (i < bytes.Length)
        {
            if (i + ChunkOverhead > bytes.Length)
            {
                truncated = true;
                break;
            }

            long length = BinaryPrimitives.ReadUInt32BigEndian(bytes[i..]);
            if (i + ChunkOverhead + length > bytes.Length)
            {
                truncated = true;
                break;
            }

            var type = System.Text.Encoding.ASCII.GetString(bytes.Slice(i + 4, 4));
            chunks.Add(new PngChunk(type, i + 8, (int)length));
            i += ChunkOverhead + (int)length;
            if (type == "IEND")
            {
                break;
            }
        }

        return chunks;
    }
}

/// <summary>A whole chunk: its type and where its data lies in the file.</summary>
internal readonly record struct PngChunk(string Type, int DataStart, int Length);
