namespace MmServe.Engine.Constraints;

/// <summary>A JSON Schema that the constrained decoder cannot enforce exactly; the message names the keyword and where it is.</summary>
public sealed class UnsupportedSchemaException(string keyword, string path, string message) : Exception(message)
{
    /// <summary>The offending keyword, e.g. "pattern".</summary>
    public string Keyword { get; } = keyword;

    /// <summary>JSON Pointer of the subschema holding it, e.g. "/properties/name".</summary>
    public string Path { get; } = path;
}
