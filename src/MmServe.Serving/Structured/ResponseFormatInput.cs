using System.Text.Json;

namespace MmServe.Serving.Structured;

/// <summary>
/// response_format as sent: {"type":"text"}, {"type":"json_object"} or
/// {"type":"json_schema","json_schema":{"name","schema","strict"}}. Null members were absent.
/// </summary>
/// <param name="Type">"text", "json_object" or "json_schema".</param>
/// <param name="JsonSchema">Whether the json_schema object was present.</param>
/// <param name="Name">json_schema.name.</param>
/// <param name="Schema">json_schema.schema: the JSON Schema itself.</param>
/// <param name="Param">The field's name on this API ("response_format").</param>
public sealed record ResponseFormatInput(string? Type, bool JsonSchema, string? Name, JsonElement? Schema, string Param = "response_format")
{
    public const string Text = "text";
    public const string JsonObject = "json_object";
    public const string JsonSchemaType = "json_schema";
}
