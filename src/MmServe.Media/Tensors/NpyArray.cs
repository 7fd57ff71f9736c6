using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MmServe.Media.Tensors;

/// <summary>A parsed .npy header and where its data starts; the data itself is not checked here.</summary>
/// <param name="Descr">The numpy type string, e.g. "&lt;f4".</param>
/// <param name="FortranOrder">Column-major data.</param>
/// <param name="Shape">One size per dimension (empty for a scalar).</param>
/// <param name="DataOffset">Bytes of magic, version, length field and header before the data.</param>
public sealed record NpyHeader(string Descr, bool FortranOrder, IReadOnlyList<long> Shape, int DataOffset);

/// <summary>
/// Reads the header of a NumPy .npy file (format versions 1.0 and 2.0: magic "\x93NUMPY", version, little-endian header
/// length, then an ASCII Python dict literal with 'descr', 'fortran_order' and 'shape'). Client input: every malformed
/// header is a <see cref="MediaError"/> naming what is wrong, never an exception.
/// </summary>
public static partial class NpyArray
{
    public const string InvalidTensor = "invalid_tensor";

    /// <summary>Largest header accepted (numpy pads headers to 64 bytes; real ones are well under 1 KiB).</summary>
    public const int MaxHeaderBytes = 4096;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static MediaResult<NpyHeader> ReadHeader(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Magic.Length || !bytes[..Magic.Length].SequenceEqual(Magic))
        {
            return Fail("The tensor is not a .npy file: it does not start with the .npy magic bytes (\\x93NUMPY).");
        }

        if (bytes.Length < 8)
        {
            return Fail("The .npy file is truncated: it ends inside its version field.");
        }

        byte major = bytes[6];
        byte minor = bytes[7];
        int lengthBytes = (major, minor) switch
        {
            (1, 0) => 2,
            (2, 0) => 4,
            _ => 0,
        };
        if (lengthBytes == 0)
        {
            return Fail($"The .npy format version {major}.{minor} is not supported; send version 1.0 or 2.0 (numpy.save writes 1.0).");
        }

        if (bytes.Length < 8 + lengthBytes)
        {
            return Fail("The .npy file is truncated: it ends inside its header length field.");
        }

        long headerLength = lengthBytes == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if (headerLength > MaxHeaderBytes)
        {
            return Fail($"The .npy header is {headerLength} bytes long; at most {MaxHeaderBytes} are accepted.");
        }

        int start = 8 + lengthBytes;
        if (bytes.Length < start + headerLength)
        {
            return Fail($"The .npy file is truncated: its header says {headerLength} bytes, {bytes.Length - start} follow.");
        }

        var header = bytes.Slice(start, (int)headerLength);
        foreach (byte b in header)
        {
            if (b is > 0x7E or (< 0x20 and not (byte)'\n'))
            {
                return Fail("The .npy header is not printable ASCII.");
            }
        }

        return ParseDict(Encoding.ASCII.GetString(header), start + (int)headerLength);
    }

    /// <summary>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), } in any key order, as numpy writes it.</summary>
    private static MediaResult<NpyHeader> ParseDict(string text, int dataOffset)
    {
        Match match;
        try
        {
            match = HeaderDict().Match(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return Fail("The .npy header is not the dict numpy writes ({'descr': ..., 'fortran_order': ..., 'shape': (...)}).");
        }

        if (!match.Success)
        {
            return Fail("The .npy header is not the dict numpy writes ({'descr': ..., 'fortran_order': ..., 'shape': (...)}).");
        }

        string? descr = null;
        bool? fortran = null;
        List<long>? shape = null;
        foreach (Capture entry in match.Groups["entry"].Captures)
        {
            var kv = Entry().Match(entry.Value);
            string key = kv.Groups["key"].Value;
            string value = kv.Groups["value"].Value.Trim();
            switch (key)
            {
                case "descr" when descr is null:
                    if (!Quoted().IsMatch(value))
                    {
                        return Fail("The .npy header's 'descr' must be a type string such as '<f4' (structured dtypes are not supported).");
                    }

                    descr = value[1..^1];
                    break;
                case "fortran_order" when fortran is null:
                    fortran = value switch { "True" => true, "False" => false, _ => null };
                    if (fortran is null)
                    {
                        return Fail("The .npy header's 'fortran_order' must be True or False.");
                    }

                    break;
                case "shape" when shape is null:
                    shape = ParseShape(value);
                    if (shape is null)
                    {
                        return Fail("The .npy header's 'shape' must be a tuple of non-negative sizes.");
                    }

                    break;
                default:
                    return Fail($"The .npy header has an unexpected or repeated key '{key}'.");
            }
        }

        if (descr is null || fortran is null || shape is null)
        {
            return Fail("The .npy header must have the keys 'descr', 'fortran_order' and 'shape'.");
        }

        return new NpyHeader(descr, fortran.Value, shape, dataOffset);
    }

    private static List<long>? ParseShape(string value)
    {
        if (value.Length < 2 || value[0] != '(' || value[^1] != ')')
        {
            return null;
        }

        var dims = new List<long>();
        foreach (var raw in value[1..^1].Split(','))
        {
            var item = raw.Trim();
            if (item.Length == 0)
            {
                continue;
            }

            if (item.Length > 12 || !long.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out long size))
            {
                return null;
            }

            dims.Add(size);
        }

        return dims;
    }

    private static MediaError Fail(string message) => new(InvalidTensor, message);

    [GeneratedRegex(@"^\s*\{(?<entry>\s*'[a-z_]+'\s*:\s*(?:'[^']*'|True|False|\([0-9,\s]*\))\s*,?)*\s*\}\s*$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex HeaderDict();

    [GeneratedRegex(@"^\s*'(?<key>[a-z_]+)'\s*:\s*(?<value>.*?)\s*,?$", RegexOptions.CultureInvariant | RegexOptions.Singleline, 1000)]
    private static partial Regex Entry();

    [GeneratedRegex(@"^'[<>|=]?[a-zA-Z][0-9]*'$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Quoted();
}
