using System.Security.Cryptography;
using MmServe.Api.Auth;

namespace MmServe.FunctionalTests.Auth;

/// <summary>
/// Keys are held only as SHA-256 hashes and a presented key is hashed before it is compared, so every comparison is
/// of two 32-byte values — the design that makes the fixed-time comparison meaningful — and it is made against every
/// key, match or not, with <see cref="CryptographicOperations.FixedTimeEquals"/>.
/// </summary>
public sealed class ApiKeyStoreTests
{
    private static readonly ApiKeyEntry[] Entries =
    [
        ApiKeyEntry.Parse("alice sk-alice-0123456789abcdef", "a").Entry!,
        ApiKeyEntry.Parse("bob sk-bob-0123456789abcdef00", "b").Entry!,
        ApiKeyEntry.Parse("carol sk-carol-0123456789abcdef", "c").Entry!,
    ];

    [Theory]
    [InlineData("sk-alice-0123456789abcdef", "alice")]
    [InlineData("sk-carol-0123456789abcdef", "carol")]
    [InlineData("sk-alice-0123456789abcdeF", null)]
    [InlineData("sk-alice-0123456789abcde", null)]
    [InlineData("", null)]
    public void Find_NamesTheKeyOrNothing(string presented, string? expected) =>
        Assert.Equal(expected, new ApiKeyStore(Entries).Find(presented));

    [Fact]
    public void TheProductComparesWithFixedTimeEquals() =>
        Assert.Equal(
            typeof(CryptographicOperations).GetMethod(nameof(CryptographicOperations.FixedTimeEquals), [typeof(ReadOnlySpan<byte>), typeof(ReadOnlySpan<byte>)]),
            new ApiKeyStore(Entries).Comparer.Method);

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("sk-alice-0123456789abcdef")]
    [InlineData("sk-carol-0123456789abcdef")]
    public void EveryCheck_ComparesEqualLengthHashesAgainstEveryKey(string presented)
    {
        var lengths = new List<(int Left, int Right)>();
        var store = new ApiKeyStore(Entries, (left, right) =>
        {
            lengths.Add((left.Length, right.Length));
            return CryptographicOperations.FixedTimeEquals(left, right);
        });

        store.Find(presented);
        store.Find(new string('k', 10_000));

        // No early exit on a match, and never a comparison whose length depends on what the client sent.
        Assert.Equal(2 * Entries.Length, lengths.Count);
        Assert.All(lengths, l => Assert.Equal((32, 32), l));
    }

    [Fact]
    public void OnlyHashesCanBeHeld() =>
        Assert.Throws<ArgumentException>(() => new ApiKeyStore([new ApiKeyEntry("raw", "sk-not-a-hash"u8.ToArray())]));
}
