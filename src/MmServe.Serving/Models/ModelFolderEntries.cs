using Microsoft.Extensions.Configuration;
using MmServe.Model.Bundle;

namespace MmServe.Serving.Models;

/// <summary>
/// The entries { "Id", "Path", "Workers" } of a configuration section of model folders served apart from "Models"
/// ("SpeechModels", "Florence2Models"), each loaded by <c>load</c>. A missing path, a repeated id or a folder that does
/// not load stops the start naming the entry's key; what loaded before is disposed.
/// </summary>
public static class ModelFolderEntries
{
    /// <param name="load">Loads one entry from its id, full path and worker count.</param>
    /// <param name="what">What a folder must be, for the missing-path message ("a Whisper ONNX export folder").</param>
    public static Dictionary<string, T> Load<T>(
        IConfiguration configuration, string section, string contentRoot, string what, Func<string, string, int, T> load)
        where T : IDisposable
    {
        var models = new Dictionary<string, T>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in configuration.GetSection(section).GetChildren())
            {
                string key = $"{section}:{entry.Key}";
                string path = entry["Path"] is { Length: > 0 } p
                    ? Path.GetFullPath(p, contentRoot)
                    : throw new BundleValidationException($"{key}:Path is required ({what}).");
                string id = entry["Id"] is { Length: > 0 } named ? named : Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
                int workers = int.TryParse(entry["Workers"], out int n) && n > 0 ? n : 1;
                if (models.ContainsKey(id))
                {
                    throw new BundleValidationException($"{key}:Id '{id}' is used twice.");
                }

                try
                {
                    models[id] = load(id, path, workers);
                }
                catch (Exception e) when (e is BundleValidationException or IOException or InvalidDataException
                    or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
                {
                    throw new BundleValidationException($"{key}:Path: {e.Message}", e);
                }
            }

            return models;
        }
        catch
        {
            foreach (var model in models.Values)
            {
                model.Dispose();
            }

            throw;
        }
    }
}
