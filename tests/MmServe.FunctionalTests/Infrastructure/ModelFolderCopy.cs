using System.Text.Json.Nodes;

namespace MmServe.FunctionalTests.Infrastructure;

/// <summary>
/// A throw-away copy of a model folder for start-up tests that break one file or field, and the real server started
/// on it until it exits (what an operator sees: the exit code and stderr).
/// </summary>
internal static class ModelFolderCopy
{
    public static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    public static void EditJson(string path, Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    /// <param name="extraArgs">More configuration, e.g. "--Model:Dtype=q4".</param>
    public static async Task<(int ExitCode, string Stderr)> RunServerToExitAsync(string modelPath, params string[] extraArgs)
    {
        using var server = await WorkerProcess.RunToExitAsync(
            [$"--Model:Path={modelPath}", .. extraArgs, "--urls=http://127.0.0.1:0", "--Grpc:Host=127.0.0.1", "--Grpc:Port=0"],
            TimeSpan.FromSeconds(60));
        return (server.ExitCode, server.Stderr);
    }

    /// <summary>What an operator must see for a broken folder: exit code 1 and one stderr line naming what is wrong.</summary>
    public static void AssertFailedStartNames(int exitCode, string stderr, IEnumerable<string> expected)
    {
        Assert.Equal(1, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{stderr}");
        Assert.StartsWith("mmserve: failed to start: ", lines[0], StringComparison.Ordinal);
        Assert.All(expected, e => Assert.Contains(e, lines[0], StringComparison.Ordinal));
    }
}
