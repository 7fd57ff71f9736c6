using System.Text.Json;
using Json.Schema;

namespace MmServe.Engine.Tests.Constraints;

/// <summary>Checks outputs with an independent JSON Schema implementation (JsonSchema.Net), not with the grammar under test.</summary>
internal static class SchemaValidation
{
    public static void AssertValid(string schemaJson, string output)
    {
        var schema = JsonSchema.FromText(schemaJson);
        JsonDocument instance;
        try
        {
            instance = JsonDocument.Parse(output);
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"Not JSON ({e.Message}): {output}");
        }

        using (instance)
        {
            var result = schema.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            var errors = (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
            Assert.True(result.IsValid, $"Invalid under the schema: {output}\n{string.Join("\n", errors)}");
        }
    }
}
