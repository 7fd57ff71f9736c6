namespace MmServe.Model.Tokenization;

/// <summary>
/// GPT-2's bytes_to_unicode: every byte gets a printable character so BPE vocabularies can be stored as text.
/// Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves; the other 68 bytes, in increasing
/// order, map to U+0100, U+0101, ... (so ' ' is 'Ġ' and '\n' is 'Ċ').
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte(ByteToCharTable);

    public static char ByteToChar(byte b) => ByteToCharTable[b];

    public static bool TryCharToByte(char c, out byte b)
    {
        if (c < CharToByteTable.Length && CharToByteTable[c] >= 0)
        {
            b = (byte)CharToByteTable[c];
            return true;
        }

        b = 0;
        return false;
    }

    /// <summary>The byte-level form of UTF-8 bytes: one alphabet character per byte.</summary>
    public static string Encode(ReadOnlySpan<byte> utf8)
    {
        var chars = utf8.Length <= 256 ? stackalloc char[utf8.Length] : new char[utf8.Length];
        for (var i = 0; i < utf8.Length; i++)
        {
            chars[i] = ByteToCharTable[utf8[i]];
        }

        return new string(chars);
    }

    /// <summary>
    /// Bytes of a byte-level token; a token with any character outside the alphabet stands for its own UTF-8
    /// (what the HF ByteLevel decoder does).
    /// </summary>
    public static byte[] Decode(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            if (!TryCharToByte(token[i], out bytes[i]))
            {
                return System.Text.Encoding.UTF8.GetBytes(token);
            }
        }

        return bytes;
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }

        return table;
    }

    private static short[] BuildCharToByte(char[] byteToChar)
    {
        var table = new short[byteToChar.Max() + 1];
        Array.Fill(table, (short)-1);
        for (var b = 0; b < 256; b++)
        {
            table[byteToChar[b]] = (short)b;
        }

        return table;
    }
}
