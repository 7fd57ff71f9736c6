namespace MmServe.TestSupport.Server;

/// <summary>
/// A server with API keys on, the way an operator turns them on: one key in configuration (Auth:ApiKeys) and one in a
/// mounted key file (Auth:ApiKeysFile, as a Kubernetes Secret would be), given as its SHA-256 so the file holds no key.
/// </summary>
public sealed class TestApiKeys : IDisposable
{
    public const string Alice = "sk-alice-0123456789abcdef";
    public const string Bob = "sk-bob-0123456789abcdef00";
    public const string Wrong = "sk-wrong-0123456789abcdef";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("mmserve-api-keys");

    public TestApiKeys()
    {
        KeyFile = Path.Combine(_dir.FullName, "api-keys");
        var bobHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Bob)));
        File.WriteAllText(KeyFile, $"# mounted from a Secret\nbob sha256:{bobHash}\n");
    }

    public string KeyFile { get; }

    /// <summary>Alice in configuration, Bob in the file, plus <paramref name="more"/>.</summary>
    public Dictionary<string, string?> Settings(IReadOnlyDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = $"alice {Alice}",
            ["Auth:ApiKeysFile"] = KeyFile,
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
