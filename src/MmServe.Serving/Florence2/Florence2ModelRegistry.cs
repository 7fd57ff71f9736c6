using Microsoft.Extensions.Configuration;
using MmServe.Engine;
using MmServe.Serving.Models;

namespace MmServe.Serving.Florence2;

/// <summary>
/// The Florence-2 models of the "Florence2Models" section (entries { "Id", "Path", "Workers" }: a Florence-2 ONNX
/// export folder each), answering /v1/chat/completions under their ids next to the chat models of "Models". Each has
/// its own engine workers. An entry that does not load stops the start with its key named.
/// </summary>
public sealed class Florence2ModelRegistry(IReadOnlyDictionary<string, Florence2Model> models) : FolderModelRegistry<Florence2Model>(models)
{
    public const string SectionName = "Florence2Models";

    public static Florence2ModelRegistry Create(IConfiguration configuration, string contentRoot, EngineOptions engine, ILoggerFactory loggerFactory) =>
        new(ModelFolderEntries.Load(
            configuration, SectionName, contentRoot, "a Florence-2 ONNX export folder",
            (id, path, workers) => new Florence2Model(path, workers, engine, loggerFactory: loggerFactory) { Id = id }));
}
