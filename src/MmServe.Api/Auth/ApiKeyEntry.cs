using System.Security.Cryptography;
using System.Text;

namespace MmServe.Api.Auth;

/// <summary>One accepted key: the name logs and per-key rate limits use, and the SHA-256 of the key (never the key).</summary>
internal sealed record ApiKeyEntry(string Name, byte[] Hash)
{
    /// <summary>Marks a configured SHA-256 in place of a key: <c>sha256:&lt;64 hex digits&gt;</c>.</summary>
    public const string HashPrefix = "sha256:";

    /// <summary>SHA-256 of the key's UTF-8 bytes (what <c>printf %s "$KEY" | sha256sum</c> prints).</summary>
    public static byte[] HashOf(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>
    /// Reads <c>KEY</c>, <c>NAME KEY</c>, <c>sha256:HEX</c> or <c>NAME sha256:HEX</c>. An entry without a name is
    /// named after the first 4 bytes of its hash ("key-1a2b3c4d"), which tells keys apart in logs and reveals nothing
    /// usable about the key.
    /// </summary>
    /// <param name="text">The entry.</param>
    /// <param name="where">Names the entry in errors ("Auth:ApiKeys:2", "Auth:ApiKeysFile line 3"). Errors never quote the entry: it may be a key.</param>
    public static (ApiKeyEntry? Entry, string? Error) Parse(string text, string where)
    {
        var parts = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length is 0 or > 2)
        {
            return (null, parts.Length == 0
                ? $"{where} is empty."
                : $"{where} must be a key, or a name and a key separated by a space (it has {parts.Length} words).");
        }

        string? name = parts.Length == 2 ? parts[0] : null;
        if (name is not null && !IsValidName(name))
        {
            return (null, $"{where}: a key's name must be 1 to 64 letters, digits, '.', '_' or '-'.");
        }

        var secret = parts[^1];
        byte[] hash;
        if (secret.StartsWith(HashPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var hex = secret[HashPrefix.Length..];
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            {
                return (null, $"{where}: '{HashPrefix}' must be followed by the key's SHA-256 as 64 hex digits.");
            }

            hash = Convert.FromHexString(hex);
        }
        else
        {
            if (secret.Length < ApiKeyOptions.MinKeyLength)
            {
                return (null, $"{where}: the key is shorter than {ApiKeyOptions.MinKeyLength} characters; use a long random key (e.g. openssl rand -hex 32).");
            }

            hash = HashOf(secret);
        }

        return (new ApiKeyEntry(name ?? $"key-{Convert.ToHexStringLower(hash, 0, 4)}", hash), null);
    }

    private static bool IsValidName(string name) =>
        name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
