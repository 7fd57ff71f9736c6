namespace MmServe.Serving;

/// <summary>Configuration section "Model": which bundle to serve and under which id.</summary>
public sealed class ModelOptions
{
    public const string SectionName = "Model";

    /// <summary>
    /// The bundle folder. Relative paths are tried against the content root, the working directory and their
    /// parents; when unset, the first models/mmserve-tiny found that way (or above the app directory) is served.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>The id clients send as "model"; defaults to the manifest's id.</summary>
    public string? Id { get; set; }
}
