using System.Text.Json.Nodes;

namespace MmServe.FunctionalTests.Infrastructure;

/// <summary>
/// tools/genai-oracle: ONNX Runtime GenAI's Generator run greedily on a cases file, in its own process (ORT GenAI's
/// native library is built against ONNX Runtime 1.31.0; the server under test loads 1.31.1). Built on first use in the
/// test's own configuration (an incremental build: seconds), so a filtered `dotnet test` needs no extra step.
/// </summary>
internal static class GenAiOracle
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly string ProjectDirectory = Path.Combine(TestPaths.RepoRoot, "tools", "genai-oracle");
    private static readonly Lazy<Task<string>> Built = new(BuildAsync);

    /// <returns>The oracle's output: {"oracle", "cases": [{"id", "prompt_text", "prompt_ids", "output_ids"}]}.</returns>
    public static async Task<JsonObject> GenerateAsync(string modelFolder, string casesFile)
    {
        var dll = await Built.Value;
        var output = Path.Combine(Path.GetTempPath(), $"mmserve-genai-oracle-{Guid.NewGuid():N}.json");
        try
        {
            await ToolProcess.RunAsync("dotnet", [dll, "--model", modelFolder, "--cases", casesFile, "--out", output], TimeSpan.FromMinutes(3));
            return JsonNode.Parse(await File.ReadAllTextAsync(output))!.AsObject();
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static async Task<string> BuildAsync()
    {
        await ToolProcess.RunAsync("dotnet", ["build", Path.Combine(ProjectDirectory, "MmServe.GenAiOracle.csproj"), "-c", Configuration, "--nologo", "-v", "q"], TimeSpan.FromMinutes(5));
        return Path.Combine(ProjectDirectory, "bin", Configuration, "net10.0", "MmServe.GenAiOracle.dll");
    }
}
