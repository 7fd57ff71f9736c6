using System.Globalization;
using System.Text.Json;
using MmServe.Model.Bundle;

namespace MmServe.Model.HuggingFace;

/// <summary>
/// One JSON file of a Hugging Face folder, read leniently (unknown keys ignored, as transformers does) but with
/// every problem reported as "&lt;file&gt;: &lt;field&gt; ..." in a <see cref="BundleValidationException"/>.
/// </summary>
internal sealed class HfJson
{
    private HfJson(string displayPath, JsonElement root)
    {
        DisplayPath = displayPath;
        Root = root;
    }

    public string DisplayPath { get; }

    public JsonElement Root { get; }

    /// <summary>Reads <paramref name="fileName"/> from <paramref name="folder"/>; null when optional and absent.</summary>
    public static HfJson? Read(string folder, string fileName, bool required)
    {
        var displayPath = Path.Combine(folder, fileName);
        if (!File.Exists(displayPath))
        {
            return required ? throw new BundleValidationException($"{displayPath}: file does not exist") : null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(displayPath), new JsonDocumentOptions
            {
                AllowTrailingCommas = true,
                CommentHandling = JsonCommentHandling.Skip,
            });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new BundleValidationException($"{displayPath}: the file must hold a JSON object");
            }

            return new HfJson(displayPath, document.RootElement.Clone());
        }
        catch (JsonException e)
        {
            var line = e.LineNumber is { } n ? $" (line {n + 1})" : "";
            throw new BundleValidationException($"{displayPath}: invalid JSON{line}", e);
        }
    }

    public BundleValidationException Error(string field, string problem) => new($"{DisplayPath}: {field} {problem}");

    public static JsonElement? Property(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    public string? String(JsonElement obj, string name, string field)
    {
        if (Property(obj, name) is not { } value)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Error(field, "must be a string");
    }

    public int? Int(JsonElement obj, string name, string field)
    {
        if (Property(obj, name) is not { } value)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n)
            ? n
            : throw Error(field, $"must be an integer (got {value.GetRawText()})");
    }

    public double? Double(JsonElement obj, string name, string field)
    {
        if (Property(obj, name) is not { } value)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d)
            ? d
            : throw Error(field, $"must be a number (got {value.GetRawText()})");
    }

    public bool? Bool(JsonElement obj, string name, string field) =>
        Property(obj, name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            { } value => throw Error(field, $"must be true or false (got {value.GetRawText()})"),
        };

    public int RequiredPositive(JsonElement obj, string name, string field)
    {
        var n = Int(obj, name, field) ?? throw Error(field, "is required");
        return n > 0 ? n : throw Error(field, $"must be > 0 (got {n.ToString(CultureInfo.InvariantCulture)})");
    }

    /// <summary>An int or a list of ints (e.g. eos_token_id); empty when absent.</summary>
    public IReadOnlyList<int> IntOrList(JsonElement obj, string name, string field)
    {
        if (Property(obj, name) is not { } value)
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var single))
        {
            return [single];
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            var list = new List<int>();
            foreach (var item in value.EnumerateArray())
            {
                list.Add(item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var n)
                    ? n
                    : throw Error(field, "must be an integer or a list of integers"));
            }

            return list;
        }

        throw Error(field, "must be an integer or a list of integers");
    }

    /// <summary>A token given as a string or as an AddedToken object {"content": ...} (tokenizer_config.json).</summary>
    public string? Token(JsonElement obj, string name, string field)
    {
        if (Property(obj, name) is not { } value)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when Property(value, "content") is { ValueKind: JsonValueKind.String } content => content.GetString(),
            _ => throw Error(field, "must be a string or an object with \"content\""),
        };
    }
}
