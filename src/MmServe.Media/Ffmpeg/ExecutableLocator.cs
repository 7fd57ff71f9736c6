namespace MmServe.Media.Ffmpeg;

/// <summary>Resolves a configured tool name to an executable file, like a shell would, without running anything.</summary>
internal static class ExecutableLocator
{
    /// <summary>The full path, or null with a reason an operator can act on.</summary>
    public static (string? Path, string? Problem) Locate(string configured, string? searchPath)
    {
        if (configured.Contains(Path.DirectorySeparatorChar) || configured.Contains(Path.AltDirectorySeparatorChar))
        {
            string full = Path.GetFullPath(configured);
            return IsExecutableFile(full) ? (full, null) : (null, $"{full} does not exist or is not executable");
        }

        var directories = (searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var directory in directories)
        {
            foreach (var candidate in Candidates(directory, configured))
            {
                if (IsExecutableFile(candidate))
                {
                    return (candidate, null);
                }
            }
        }

        return (null, $"{configured} was not found on the search path");
    }

    private static IEnumerable<string> Candidates(string directory, string name)
    {
        // Relative PATH entries would make the result depend on the working directory; skip them.
        if (!Path.IsPathRooted(directory))
        {
            yield break;
        }

        yield return Path.Combine(directory, name);
        if (OperatingSystem.IsWindows() && !name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase))
        {
            yield return Path.Combine(directory, name + ".exe");
        }
    }

    private static bool IsExecutableFile(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(path) & AnyExecute) != 0;
    }
}
