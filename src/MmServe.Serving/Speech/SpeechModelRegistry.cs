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

    public static SpeechModelRegistry Create(IConfiguration configuration, string contentRoot, EngineOptions engine, FfmpegTools ffmpeg, ILoggerFactory loggerFactory)
    {
        return new SpeechModelRegistry(Models.ModelFolderEntries.Load(
            configuration, SectionName, contentRoot, "a Whisper ONNX export folder",
            (path, workers) => new WhisperModel(path, workers, engine, ffmpeg, loggerFactory)));
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
