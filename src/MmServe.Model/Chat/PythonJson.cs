using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MmServe.Model.Chat;

/// <summary>
/// JSON written as Python's json.dumps writes it by default (", " and ": " separators, non-ASCII as \uXXXX): the form
/// the reference recipes train tool calls in. Clients echo a call's arguments in whatever form their serializer
/// uses (Microsoft.Extensions.AI re-serializes them compactly), so templates re-write them in the trained form.
/// </summary>
public static class PythonJson
{
    public static string Dumps(JsonElement value)
    {
        var text = new StringBuilder();
        Write(text, value);
        return text.ToString();
    }

    public static string Dumps(string value)
    {
        var text = new StringBuilder();
        WriteString(text, value);
        return text.ToString();
    }

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

    private static void Write(StringBuilder text, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                text.Append('{');
                var first = true;
                foreach (var property in value.EnumerateObject())
                {
                    text.Append(first ? "" : ", ");
                    first = false;
                    WriteString(text, property.Name);
                    text.Append(": ");
                    Write(text, property.Value);
                }

                text.Append('}');
                break;
            case JsonValueKind.Array:
                text.Append('[');
                var firstItem = true;
                foreach (var item in value.EnumerateArray())
                {
                    text.Append(firstItem ? "" : ", ");
                    firstItem = false;
                    Write(text, item);
                }

                text.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(text, value.GetString()!);
                break;
            default:
                text.Append(value.GetRawText()); // numbers as written, true, false, null
                break;
        }
    }

    private static void WriteString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7F)
                    {
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }
        }

        text.Append('"');
    }
}
