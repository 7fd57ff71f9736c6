using System.Text.Json;
using Json.Schema;

namespace MmServe.TestSupport;

/// <summary>Checks outputs with an independent JSON Schema implementation (JsonSchema.Net), not with the grammar under test.</summary>
public static class SchemaValidation
{
    /// <summary>Fails unless <paramref name="output"/> is JSON that validates against <paramref name="schemaJson"/>.</summary>
    public static void AssertValid(string schemaJson, string output)
    {
        var problem = Check(schemaJson, output);
        Assert.True(problem is null, problem);
    }

    /// <summary>Null when <paramref name="output"/> is JSON valid under <paramref name="schemaJson"/>; otherwise what is wrong.</summary>
    public static string? Check(string schemaJson, string output)
    {
        var schema = JsonSchema.FromText(schemaJson);
        JsonDocument instance;
        try
        {
            instance = JsonDocument.Parse(output);
        }
        catch (JsonException e)
        {
            return $"Not JSON ({e.Message}): {output}";
        }

        using (instance)
        {
            var result = schema.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            var errors = (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
            return result.IsValid ? null : $"Invalid under the schema: {output}\n{string.Join("\n", errors)}";
        }
    }
}
