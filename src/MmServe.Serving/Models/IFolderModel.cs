using MmServe.Serving.Capabilities;

namespace MmServe.Serving.Models;

/// <summary>
/// A model of a section served apart from "Models" (a Whisper speech model, a Florence-2 model): listed by
/// GET /v1/models and mmserve.v1.ModelService next to the chat models, and warmed up before the server says ready.
/// </summary>
public interface IFolderModel : IDisposable
{
    /// <summary>The id clients name it by (its entry's Id, else its folder's name).</summary>
    string Id { get; }

    /// <summary>Unix seconds of its config.json's last change (the "created" of its model card).</summary>
    long Created { get; }

    /// <summary>What its model card reports.</summary>
    ModelCapabilities Capabilities { get; }

    /// <summary>One short request before readiness; null when it answered well, else what failed.</summary>
    Task<string?> WarmUpAsync(CancellationToken ct);
}
