using MmServe.Model.Bundle;
using MmServe.Model.GenAi;
using MmServe.Model.HuggingFace;

namespace MmServe.Serving;

/// <summary>Finds the bundle folder named by Model:Path, or the default models/mmserve-tiny.</summary>
public static class ModelPathResolver
{
    public const string DefaultRelativePath = "models/mmserve-tiny";

    /// <summary>
    /// Folders a relative path is tried against, in order: a configured path against the content root and the
    /// working directory; the default also against their parents and the app directory's (i.e. the repo root).
    /// </summary>
    public static IReadOnlyList<string> SearchRoots(string? configuredPath, string contentRoot)
    {
        string[] starts = [contentRoot, Directory.GetCurrentDirectory(), AppContext.BaseDirectory];
        var roots = string.IsNullOrWhiteSpace(configuredPath)
            ? starts.SelectMany(Ancestors)
            : starts.Take(2).Select(Path.GetFullPath);
        return [.. roots.Distinct(StringComparer.Ordinal)];
    }

    /// <returns>The absolute folder holding a manifest.json, config.json or genai_config.json, or null when none was found.</returns>
    public static string? Resolve(string? configuredPath, string contentRoot)
    {
        var path = string.IsNullOrWhiteSpace(configuredPath) ? DefaultRelativePath : configuredPath;
        if (Path.IsPathRooted(path))
        {
            return HasManifest(path) ? Path.GetFullPath(path) : null;
        }

        return SearchRoots(configuredPath, contentRoot)
            .Select(root => Path.GetFullPath(Path.Combine(root, path)))
            .FirstOrDefault(HasManifest);
    }

    /// <summary>An MmServe bundle (manifest.json), a Hugging Face export (config.json) or an ORT GenAI folder (genai_config.json).</summary>
    private static bool HasManifest(string directory) =>
        File.Exists(Path.Combine(directory, BundleLoader.ManifestFileName)) || File.Exists(Path.Combine(directory, HfModelConfig.FileName))
        || File.Exists(Path.Combine(directory, GenAiConfig.FileName));

    private static IEnumerable<string> Ancestors(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            yield return dir.FullName;
        }
    }
}
