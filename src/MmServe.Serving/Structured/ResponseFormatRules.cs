using MmServe.Engine.Constraints;
using MmServe.Serving.Errors;
using MmServe.Serving.Requests;

namespace MmServe.Serving.Structured;

/// <summary>
/// response_format → the grammar every output token must follow: json_object is any JSON object, json_schema a
/// value valid under the schema (the subset in <see cref="JsonSchemaGrammar"/>; other keywords are a 400 naming
/// them, never silently ignored). "text" or no response_format is unconstrained.
/// </summary>
public static class ResponseFormatRules
{
    public static (TokenConstraint? Constraint, ServingError? Error) Apply(ResponseFormatInput? format, ConstraintCache cache)
    {
        if (format is null)
        {
            return (null, null);
        }

        string param = format.Param;
        switch (format.Type)
        {
            case null:
                return (null, ServingError.Missing($"{param}.type"));
            case ResponseFormatInput.Text:
                return (null, null);
            case ResponseFormatInput.JsonObject:
                return (cache.GetOrCompile("json_object", JsonGrammars.AnyObject), null);
            case ResponseFormatInput.JsonSchemaType:
                return JsonSchema(format, cache);
            default:
                return (null, ServingError.Invalid(
                    $"Invalid value: '{format.Type}'. Supported values are: 'text', 'json_object' and 'json_schema'.", $"{param}.type", "invalid_value"));
        }
    }

    private static (TokenConstraint?, ServingError?) JsonSchema(ResponseFormatInput format, ConstraintCache cache)
    {
        string param = format.Param;
        if (!format.JsonSchema)
        {
            return (null, ServingError.Missing($"{param}.json_schema"));
        }

        if (string.IsNullOrEmpty(format.Name))
        {
            return (null, ServingError.Missing($"{param}.json_schema.name"));
        }

        if (!WireNames.IsValid(format.Name))
        {
            return (null, ServingError.Invalid(
                "'json_schema.name' must be 1-64 characters of a-z, A-Z, 0-9, underscores and dashes.", $"{param}.json_schema.name", "invalid_value"));
        }

        if (format.Schema is not { } schema)
        {
            // OpenAI makes the schema optional; without one any JSON value is valid.
            return (cache.GetOrCompile("json_value", JsonGrammars.AnyValue), null);
        }

        try
        {
            return (cache.GetOrCompile("schema:" + schema.GetRawText(), () => JsonSchemaGrammar.Compile(schema)), null);
        }
        catch (UnsupportedSchemaException e)
        {
            return (null, ServingError.Invalid($"Invalid schema for response_format '{format.Name}': {e.Message}", param, "invalid_json_schema"));
        }
    }
}
