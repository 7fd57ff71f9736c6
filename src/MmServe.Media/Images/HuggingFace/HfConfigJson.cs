using System.Text.Json;

namespace MmServe.Media.Images.HuggingFace;

/// <summary>
/// Typed reads of <c>preprocessor_config.json</c> fields. Errors name the field and end up in an
/// <see cref="InvalidDataException"/>, so a bad model fails at load, not per request. JSON null counts as absent,
/// as it does for transformers (which substitutes its default for None).
/// </summary>
internal static class HfConfigJson
{
    public static JsonDocument Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            var document = JsonDocument.Parse(json.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new InvalidDataException($"{source}: expected a JSON object.");
            }

            return document;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON: {e.Message}", e);
        }
    }

    public static JsonElement? Optional(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static bool Bool(JsonElement root, string name, bool fallback, string source) => Optional(root, name) switch
    {
        null => fallback,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw Invalid(source, name, "must be true or false"),
    };

    public static int Int(JsonElement value, string name, string source) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int result)
            ? result
            : throw Invalid(source, name, "must be an integer");

    public static double Number(JsonElement value, string name, string source) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double result) && double.IsFinite(result)
            ? result
            : throw Invalid(source, name, "must be a finite number");

    /// <summary>A per-channel value list, or one number for all three channels (transformers accepts both).</summary>
    public static double[] ChannelValues(JsonElement root, string name, IReadOnlyList<double> fallback, string source)
    {
        switch (Optional(root, name))
        {
            case null:
                return [.. fallback];
            case { ValueKind: JsonValueKind.Number } single:
                double value = Number(single, name, source);
                return [value, value, value];
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() == 3:
                return [.. array.EnumerateArray().Select(item => Number(item, name, source))];
            default:
                throw Invalid(source, name, "must be a number or a list of 3 numbers (R, G, B)");
        }
    }

    public static InvalidDataException Invalid(string source, string name, string problem) =>
        new($"{source}: '{name}' {problem}.");
}
