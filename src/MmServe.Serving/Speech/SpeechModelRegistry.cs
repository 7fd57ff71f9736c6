using Microsoft.Extensions.Configuration;
using MmServe.Engine;
using MmServe.Media.Ffmpeg;
using MmServe.Serving.Models;

namespace MmServe.Serving.Speech;

/// <summary>
/// The speech-to-text models of the "SpeechModels" section (entries { "Id", "Path", "Workers" }: a Whisper ONNX
/// export folder each), served by /v1/audio/transcriptions and /v1/audio/translations next to the chat models of
/// "Models". Each has its own engine workers. An entry that does not load stops the start with its key named.
/// </summary>
public sealed class SpeechModelRegistry(IReadOnlyDictionary<string, WhisperModel> models) : FolderModelRegistry<WhisperModel>(models)
{
    public const string SectionName = "SpeechModels";

    public static SpeechModelRegistry Create(IConfiguration configuration, string contentRoot, EngineOptions engine, FfmpegTools ffmpeg, ILoggerFactory loggerFactory) =>
        new(ModelFolderEntries.Load(
            configuration, SectionName, contentRoot, "a Whisper ONNX export folder",
            (id, path, workers) => new WhisperModel(path, workers, engine, ffmpeg, loggerFactory) { Id = id }));
}
