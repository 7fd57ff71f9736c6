using System.Text.Json;
using MmServe.Model.Chat.Jinja;

namespace MmServe.Model.Chat;

/// <summary>
/// JSON written as Python's json.dumps writes it by default (", " and ": " separators, non-ASCII as \uXXXX): the form
/// the reference recipes train tool calls and results in. Clients echo a call's arguments and send results in
/// whatever form their serializer uses (Microsoft.Extensions.AI re-serializes arguments and indents results), so
/// templates re-write them in the trained form. The writer is the Jinja engine's tojson with ensure_ascii, which
/// differs from Python only in numbers (an integral float prints as JavaScript prints it: 1.0 as 1).
/// </summary>
public static class PythonJson
{
    private static readonly JsonOptions Options = new(Indent: null, EnsureAscii: true, Separators: null, SortKeys: false);

    public static string Dumps(JsonElement value) => Json.Serialize(Values.FromClr(value), Options, depth: 0);

    public static string Dumps(string value) => Json.Serialize(value, Options, depth: 0);

    /// <summary>The text re-written in json.dumps form, or the text as it came when it is not JSON.</summary>
    public static string DumpsOrKeep(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return Dumps(doc.RootElement);
        }
        catch (JsonException)
        {
            return json;
        }
    }
}
