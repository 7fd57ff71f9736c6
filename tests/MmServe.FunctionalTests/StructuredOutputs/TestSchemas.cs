namespace MmServe.FunctionalTests.StructuredOutputs;

/// <summary>Typical response_format schemas: flat with optional members, enums and anyOf, an array of nested objects.</summary>
internal static class TestSchemas
{
    public const string Person = """
        {"type":"object","properties":{
            "name":{"type":"string","minLength":1,"maxLength":20},
            "age":{"type":"integer"},
            "email":{"type":"string"},
            "tags":{"type":"array","items":{"type":"string","maxLength":8},"maxItems":3}},
         "required":["name","age"],"additionalProperties":false}
        """;

    public const string Shape = """
        {"type":"object","properties":{
            "kind":{"enum":["circle","square","triangle"]},
            "size":{"anyOf":[{"type":"number"},{"type":"null"}]},
            "filled":{"type":"boolean"},
            "origin":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"}},"required":["x","y"],"additionalProperties":false}},
         "required":["kind","size","filled","origin"],"additionalProperties":false}
        """;

    public const string Points = """
        {"type":"array","minItems":1,"maxItems":4,"items":{
            "type":"object","properties":{"x":{"type":"integer"},"label":{"type":"string","minLength":1,"maxLength":5}},
            "required":["x","label"],"additionalProperties":false}}
        """;

    public static readonly string[] All = [Person, Shape, Points];
}
