using Microsoft.Extensions.Configuration;
using MmServe.Engine;
using MmServe.Media.Ffmpeg;

namespace MmServe.Serving.Speech;

/// <summary>
/// The speech-to-text models of the "SpeechModels" section (entries { "Id", "Path", "Workers" }: a Whisper ONNX
/// export folder each), served by /v1/audio/transcriptions and /v1/audio/translations next to the chat models of
/// "Models". Each has its own engine workers. An entry that does not load stops the start with its key named.
/// </summary>
public sealed class SpeechModelRegistry : IDisposable
{
    public const string SectionName = "SpeechModels";

    private readonly Dictionary<string, WhisperModel> _models;

    public SpeechModelRegistry(IReadOnlyDictionary<string, WhisperModel> models)
    {
        _models = new Dictionary<string, WhisperModel>(models, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Ids => _models.Keys;

    /// <summary>The speech models in id order (as GET /v1/models lists them).</summary>
    public IEnumerable<WhisperModel> All => _models.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Value);

    public static SpeechModelRegistry Create(IConfiguration configuration, string contentRoot, EngineOptions engine, FfmpegTools ffmpeg, ILoggerFactory loggerFactory)
    {
        var models = new Dictionary<string, WhisperModel>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in configuration.GetSection(SectionName).GetChildren())
            {
                string key = $"{SectionName}:{entry.Key}";
                string path = entry["Path"] is { Length: > 0 } p
                    ? Path.GetFullPath(p, contentRoot)
                    : throw new Model.Bundle.BundleValidationException($"{key}:Path is required (a Whisper ONNX export folder).");
                string id = entry["Id"] is { Length: > 0 } named ? named : Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
                int workers = int.TryParse(entry["Workers"], out int n) && n > 0 ? n : 1;
                if (models.ContainsKey(id))
                {
                    throw new Model.Bundle.BundleValidationException($"{key}:Id '{id}' is used twice.");
                }

                try
                {
                    models[id] = new WhisperModel(path, workers, engine, ffmpeg, loggerFactory) { Id = id };
                }
                catch (Exception e) when (e is Model.Bundle.BundleValidationException or IOException or InvalidDataException
                    or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
                {
                    throw new Model.Bundle.BundleValidationException($"{key}:Path: {e.Message}", e);
                }
            }

            return new SpeechModelRegistry(models);
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

    public WhisperModel? Find(string? id) => id is not null && _models.TryGetValue(id, out var model) ? model : null;

    public void Dispose()
    {
        foreach (var model in _models.Values)
        {
            model.Dispose();
        }
    }
}
