using System.Globalization;
using System.Text;

namespace MmServe.Model.Tokenization;

/// <summary>
/// What tokenizer.json's decoder does, reduced to per-token bytes plus a leading-space strip: either ByteLevel
/// (GPT-2 alphabet back to bytes) or the SentencePiece-style chain Replace("▁", " ") / ByteFallback / Fuse /
/// Strip(" ", n, 0), or its one-step form Metaspace. Fuse is implicit: tokens are always concatenated.
/// </summary>
internal sealed record TokenDecoding(
    bool ByteLevel,
    IReadOnlyList<(string From, string To)> Replacements,
    bool ByteFallback,
    int StripLeadingSpaces)
{
    public static readonly TokenDecoding ByteLevelDecoding = new(true, [], false, 0);

    /// <summary>The bytes one vocabulary token stands for.</summary>
    public byte[] TokenBytes(string token)
    {
        if (ByteLevel)
        {
            return ByteLevelAlphabet.Decode(token);
        }

        if (ByteFallback && TryParseByteToken(token, out var b))
        {
            return [b];
        }

        foreach (var (from, to) in Replacements)
        {
            token = token.Replace(from, to, StringComparison.Ordinal);
        }

        return Encoding.UTF8.GetBytes(token);
    }

    /// <summary>"&lt;0xAB&gt;", the byte-fallback token form.</summary>
    public static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture,
                out value);
    }
}
