using System.Text.RegularExpressions;

namespace MmServe.Serving.Requests;

/// <summary>OpenAI's rule for client-chosen names (json_schema.name, function names): 1-64 of a-z, A-Z, 0-9, '_' and '-'.</summary>
public static partial class WireNames
{
    public static bool IsValid(string name) => Pattern().IsMatch(name);

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex Pattern();
}
