using MmServe.Serving.Capabilities;
using MmServe.Serving.Florence2;
using MmServe.Serving.Speech;

namespace MmServe.Serving.Models;

/// <summary>One served model as its card describes it.</summary>
public sealed record CatalogEntry(string Id, long Created, ModelCapabilities Capabilities);

/// <summary>
/// Every served model in the order GET /v1/models and mmserve.v1.ModelService list them: the chat models of
/// "Models", then the Florence-2 models (also answering chat), then the speech models (/v1/audio/* only).
/// </summary>
public sealed class ModelCatalog(ModelRegistry chat, Florence2ModelRegistry florence2, SpeechModelRegistry speech)
{
    public IEnumerable<CatalogEntry> All =>
        chat.All.Select(m => new CatalogEntry(m.Description.Id, m.Description.Created, m.Description.Capabilities))
            .Concat(florence2.All.Select(Entry))
            .Concat(speech.All.Select(Entry));

    /// <summary>The model named <paramref name="id"/>, or null when none is served under it.</summary>
    public CatalogEntry? Find(string id) =>
        chat.Find(id) is ({ } model, null) ? new CatalogEntry(model.Description.Id, model.Description.Created, model.Description.Capabilities)
        : florence2.Find(id) is { } f ? Entry(f)
        : speech.Find(id) is { } s ? Entry(s)
        : null;

    private static CatalogEntry Entry(IFolderModel model) => new(model.Id, model.Created, model.Capabilities);
}
