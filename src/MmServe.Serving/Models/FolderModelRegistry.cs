namespace MmServe.Serving.Models;

/// <summary>Models of one configuration section served apart from "Models" (see <see cref="ModelFolderEntries"/>), by id.</summary>
public abstract class FolderModelRegistry<T>(IReadOnlyDictionary<string, T> models) : IDisposable
    where T : class, IFolderModel
{
    private readonly Dictionary<string, T> _models = new(models, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Ids => _models.Keys;

    /// <summary>The models in id order (as GET /v1/models lists them).</summary>
    public IEnumerable<T> All => _models.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Value);

    public T? Find(string? id) => id is not null && _models.TryGetValue(id, out var model) ? model : null;

    public void Dispose()
    {
        foreach (var model in _models.Values)
        {
            model.Dispose();
        }

        GC.SuppressFinalize(this);
    }
}
