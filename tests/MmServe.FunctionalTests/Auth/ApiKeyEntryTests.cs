using System.Security.Cryptography;
using System.Text;
using MmServe.Api.Auth;

namespace MmServe.FunctionalTests.Auth;

/// <summary>The entry syntax of Auth:ApiKeys and Auth:ApiKeysFile: KEY, NAME KEY, sha256:HEX; errors never quote a key.</summary>
public sealed class ApiKeyEntryTests
{
    private const string Key = "sk-test-0123456789abcdef";

    [Fact]
    public void RawKey_IsKeptAsItsSha256AndNamedAfterIt()
    {
        var (entry, error) = ApiKeyEntry.Parse(Key, "Auth:ApiKeys:0");

        Assert.Null(error);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(Key));
        Assert.Equal(hash, entry!.Hash);
        Assert.Equal($"key-{Convert.ToHexStringLower(hash)[..8]}", entry.Name);
    }

    [Fact]
    public void NamedHash_IsTheSameKeyAsTheRawOne()
    {
        var hex = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));

        var (entry, error) = ApiKeyEntry.Parse($"  team-a\tsha256:{hex}  ", "Auth:ApiKeys:0");

        Assert.Null(error);
        Assert.Equal("team-a", entry!.Name);
        Assert.Equal(ApiKeyEntry.Parse(Key, "x").Entry!.Hash, entry.Hash);
    }

    [Theory]
    [InlineData("sk-short", "shorter than 16 characters")]
    [InlineData("team-a sk-short", "shorter than 16 characters")]
    [InlineData("a b sk-test-0123456789abcdef", "a name and a key")]
    [InlineData("team/a sk-test-0123456789abcdef", "name must be")]
    [InlineData("sha256:1234", "64 hex digits")]
    [InlineData("sha256:zz4c7e7e4f6c1b3b0d8a3b0f7c2a1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c", "64 hex digits")]
    [InlineData("   ", "is empty")]
    public void BadEntry_IsRefusedNamingTheSettingButNotTheKey(string text, string expected)
    {
        var (entry, error) = ApiKeyEntry.Parse(text, "Auth:ApiKeys:3");

        Assert.Null(entry);
        Assert.StartsWith("Auth:ApiKeys:3", error);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w.Length > 6))
        {
            Assert.DoesNotContain(word, error, StringComparison.Ordinal);
        }
    }
}
