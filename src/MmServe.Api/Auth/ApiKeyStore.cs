using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace MmServe.Api.Auth;

/// <summary>Compares two hashes; the product uses <see cref="CryptographicOperations.FixedTimeEquals"/>, tests record the calls.</summary>
internal delegate bool HashComparer(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right);

/// <summary>
/// The accepted keys, held as SHA-256 hashes only. A presented key is hashed first, so every comparison is of two
/// 32-byte values whatever the key's length, and it is made in constant time against every entry (no early exit):
/// how long a check takes tells an attacker neither how much of a key was right nor which entry matched.
/// </summary>
internal sealed class ApiKeyStore
{
    private readonly ApiKeyEntry[] _entries;

    public ApiKeyStore(IReadOnlyList<ApiKeyEntry> entries, HashComparer? comparer = null)
    {
        if (entries.Any(e => e.Hash.Length != SHA256.HashSizeInBytes))
        {
            throw new ArgumentException("Every key must be held as a SHA-256 hash.", nameof(entries));
        }

        _entries = [.. entries];
        Comparer = comparer ?? CryptographicOperations.FixedTimeEquals;
    }

    /// <summary>How hashes are compared (exposed so a test can check it is the fixed-time comparison).</summary>
    internal HashComparer Comparer { get; }

    public IReadOnlyList<string> Names => [.. _entries.Select(e => e.Name)];

    /// <returns>The name of the key <paramref name="presented"/> is, or null.</returns>
    public string? Find(string presented)
    {
        // Header values are bounded by Kestrel's header limits (32 KiB in all), so this buffer is too.
        int length = Encoding.UTF8.GetMaxByteCount(presented.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer.AsSpan(0, Encoding.UTF8.GetBytes(presented, buffer)), hash);
            string? match = null;
            foreach (var entry in _entries)
            {
                if (Comparer(hash, entry.Hash))
                {
                    match ??= entry.Name;
                }
            }

            return match;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }
}
