namespace MmServe.TestSupport;

/// <summary>Where the repository and the bundled reference model are, from a test's point of view.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>models/mmserve-tiny, or MMSERVE_TEST_BUNDLE when set (e.g. a freshly exported bundle).</summary>
    public static string Bundle { get; } =
        Environment.GetEnvironmentVariable("MMSERVE_TEST_BUNDLE") is { Length: > 0 } custom
            ? custom
            : Path.Combine(RepoRoot, "models", "mmserve-tiny");

    public static string Golden => Path.Combine(Bundle, "golden");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MmServe.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("MmServe.sln not found above the test binaries");
    }
}
