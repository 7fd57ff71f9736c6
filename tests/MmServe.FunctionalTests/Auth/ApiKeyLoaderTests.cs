using MmServe.Api.Auth;

namespace MmServe.FunctionalTests.Auth;

/// <summary>Keys from configuration and from a mounted file (a Kubernetes Secret): comments, duplicates, a missing or empty file.</summary>
public sealed class ApiKeyLoaderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("mmserve-keys");

    public void Dispose() => _dir.Delete(recursive: true);

    private string WriteFile(string text)
    {
        var path = Path.Combine(_dir.FullName, "api-keys");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void FileAndSettings_AreMerged_CommentsAndBlankLinesSkipped()
    {
        var file = WriteFile("# rotated 2026-01\n\nalice sk-alice-0123456789abcdef\r\n  sk-anon-0123456789abcdef  \n");
        var options = new ApiKeyOptions { ApiKeys = ["bob sk-bob-0123456789abcdef00"], ApiKeysFile = file };

        var (store, errors) = ApiKeyLoader.Load(options, "/");

        Assert.Empty(errors);
        Assert.Equal(3, store!.Names.Count);
        Assert.Equal("alice", store.Find("sk-alice-0123456789abcdef"));
        Assert.Equal("bob", store.Find("sk-bob-0123456789abcdef00"));
        Assert.StartsWith("key-", store.Find("sk-anon-0123456789abcdef"));
    }

    [Fact]
    public void RelativeFile_IsReadFromTheContentRoot()
    {
        WriteFile("sk-anon-0123456789abcdef\n");

        var (store, errors) = ApiKeyLoader.Load(new ApiKeyOptions { ApiKeysFile = "api-keys" }, _dir.FullName);

        Assert.Empty(errors);
        Assert.Single(store!.Names);
    }

    [Theory]
    [InlineData(null, "cannot read")]
    [InlineData("# only a comment\n\n", "holds no keys")]
    [InlineData("alice sk-alice-0123456789abcdef\nalice sk-other-0123456789abcdef\n", "have the same name 'alice'")]
    [InlineData("alice sk-alice-0123456789abcdef\nbob sk-alice-0123456789abcdef\n", "are the same key")]
    [InlineData("ok-key-0123456789abcdef\nsk-short\n", "Auth:ApiKeysFile line 2")]
    public void BadFile_IsReportedNamingTheSettingOrLine(string? content, string expected)
    {
        var path = content is null ? Path.Combine(_dir.FullName, "missing") : WriteFile(content);

        var (store, errors) = ApiKeyLoader.Load(new ApiKeyOptions { ApiKeysFile = path }, "/");

        Assert.Null(store);
        var error = Assert.Single(errors);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789abcdef", error, StringComparison.Ordinal);
    }
}
