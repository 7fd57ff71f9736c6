using System.Text.Json;

namespace MmServe.Engine.Constraints;

/// <summary>
/// Compiles a JSON Schema into grammar rules whose every sentence validates against it. The subset is what can be
/// enforced exactly: type (one or a list), properties, required, additionalProperties, enum, const, items,
/// minItems, maxItems, minLength, maxLength, anyOf, local $ref into $defs/definitions (not recursive), and
/// annotations. Any other keyword is refused with <see cref="UnsupportedSchemaException"/> rather than ignored,
/// because ignoring one would let outputs through that the client's validator rejects. Objects with properties
/// are written with their properties in schema order (required ones always, optional ones maybe), which every
/// validator accepts and keeps the grammar linear in the number of properties.
/// </summary>
public sealed class JsonSchemaGrammar
{
    /// <summary>Largest count (maxLength, maxItems, minItems...) compiled into rules; bigger ones are refused.</summary>
    public const int MaxCount = 4096;

    /// <summary>
    /// Most properties of one object and most alternatives of one enum/anyOf (OpenAI allows 100 and 500). Optional
    /// properties chain, and the automaton follows such chains recursively, so this also bounds its stack depth.
    /// </summary>
    public const int MaxBranches = 1000;

    /// <summary>Largest grammar a schema may compile to (symbols); counts multiply rules, so this bounds the work a request can ask for.</summary>
    public const int MaxSymbols = 1_000_000;

    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "title", "description", "$schema", "$id", "$comment", "default", "examples", "$defs", "definitions", "deprecated", "readOnly", "writeOnly",
    };

    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "type", "properties", "required", "additionalProperties", "enum", "const", "items", "minItems", "maxItems",
        "minLength", "maxLength", "anyOf", "$ref",
    };

    private readonly JsonRules _json;
    private readonly JsonElement _document;
    private readonly Dictionary<string, int> _refs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _resolving = new(StringComparer.Ordinal);

    private JsonSchemaGrammar(JsonRules json, JsonElement document)
    {
        _json = json;
        _document = document;
    }

    /// <summary>A grammar for one JSON value valid under <paramref name="schema"/>, optionally preceded by whitespace.</summary>
    /// <exception cref="UnsupportedSchemaException">The schema uses a keyword outside the subset, or is not satisfiable.</exception>
    public static Grammar Compile(JsonElement schema)
    {
        return JsonGrammars.Build(json => AddTo(json, schema));
    }

    /// <summary>Rules for a value valid under <paramref name="schema"/>, added to <paramref name="json"/>'s builder.</summary>
    public static Symbol AddTo(JsonRules json, JsonElement schema) => new JsonSchemaGrammar(json, schema).Value(schema, "");

    private GrammarBuilder Builder => _json.Builder;

    private Symbol Value(JsonElement schema, string path)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return _json.AnyValue();
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw Unsupported(schema.ValueKind == JsonValueKind.False ? "false" : "schema", path,
                schema.ValueKind == JsonValueKind.False ? "The schema 'false' accepts nothing." : "A schema must be an object or a boolean.");
        }

        foreach (var keyword in schema.EnumerateObject())
        {
            if (!Supported.Contains(keyword.Name) && !Annotations.Contains(keyword.Name))
            {
                throw Unsupported(keyword.Name, path, $"The JSON Schema keyword '{keyword.Name}' is not supported by constrained decoding.");
            }
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            return Reference(reference, path);
        }

        if (schema.TryGetProperty("anyOf", out var anyOf))
        {
            return AnyOf(anyOf, path);
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return Literals([constant], schema, path);
        }

        if (schema.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
            {
                throw Unsupported("enum", path, "'enum' must be a non-empty array.");
            }

            return Literals([.. CheckBranches(values, "enum", path).EnumerateArray()], schema, path);
        }

        var types = Types(schema, path);
        var alternatives = types.Select(type => new[] { Typed(type, schema, path) }).ToArray();
        if (Builder.SymbolCount > MaxSymbols)
        {
            throw Unsupported("schema", path, $"The schema is too large to enforce (its grammar exceeds {MaxSymbols} symbols); lower its maxLength/maxItems counts.");
        }

        return alternatives.Length == 1 ? alternatives[0][0] : Symbol.Ref(Builder.Rule(alternatives));
    }

    private Symbol Typed(string type, JsonElement schema, string path) => type switch
    {
        "string" => _json.StringOfLength(Count(schema, "minLength", path) ?? 0, Count(schema, "maxLength", path)),
        "integer" => _json.Integer,
        "number" => _json.Number,
        "boolean" => _json.Boolean,
        "null" => _json.Null,
        "array" => Array(schema, path),
        "object" => Object(schema, path),
        _ => _json.AnyValue(),
    };

    private List<string> Types(JsonElement schema, string path)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            // No type: the shape follows from the keywords present, else anything.
            return schema.TryGetProperty("properties", out _) ? ["object"]
                : schema.TryGetProperty("items", out _) ? ["array"]
                : ["any"];
        }

        var names = type.ValueKind switch
        {
            JsonValueKind.String => [type.GetString()!],
            JsonValueKind.Array => type.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString()! : "").ToList(),
            _ => [""],
        };
        foreach (var name in names)
        {
            if (name is not ("string" or "integer" or "number" or "boolean" or "null" or "array" or "object"))
            {
                throw Unsupported("type", path, $"'type' must be one of string, integer, number, boolean, null, array, object (or a list of them), not '{name}'.");
            }
        }

        return names.Count == 0 ? throw Unsupported("type", path, "'type' must not be an empty list.") : names;
    }

    private Symbol Object(JsonElement schema, string path)
    {
        bool closed = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False;
        if (additional.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Object))
        {
            throw Unsupported("additionalProperties", path, "'additionalProperties' must be a boolean or a schema.");
        }

        var required = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("required", out var requiredList))
        {
            if (requiredList.ValueKind != JsonValueKind.Array || requiredList.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
            {
                throw Unsupported("required", path, "'required' must be an array of property names.");
            }

            required.UnionWith(requiredList.EnumerateArray().Select(r => r.GetString()!));
        }

        if (!schema.TryGetProperty("properties", out var properties))
        {
            if (required.Count > 0)
            {
                throw Unsupported("required", path, "'required' names properties that 'properties' does not define.");
            }

            // Without properties the object is open (any members) unless additionalProperties is false.
            return closed ? Builder.Literal("{}") : _json.AnyObject();
        }

        if (properties.ValueKind != JsonValueKind.Object)
        {
            throw Unsupported("properties", path, "'properties' must be an object.");
        }

        if (properties.EnumerateObject().Count() > MaxBranches)
        {
            throw Unsupported("properties", path, $"More than {MaxBranches} properties in one object are not supported by constrained decoding.");
        }

        var members = properties.EnumerateObject()
            .Select(p => (Key: Builder.Literal(JsonSerializer.Serialize(p.Name)), Value: Value(p.Value, $"{path}/properties/{Escape(p.Name)}"), Required: required.Remove(p.Name)))
            .ToList();
        if (required.Count > 0)
        {
            throw Unsupported("required", path, $"'required' names '{required.First()}', which 'properties' does not define.");
        }

        return Members(members);
    }

    /// <summary>
    /// "{" members "}" in declared order. Head(i) has written nothing yet, Tail(i) has written a member (so the next
    /// one needs a comma); a required member cannot be skipped in either.
    /// </summary>
    private Symbol Members(List<(Symbol Key, Symbol Value, bool Required)> members)
    {
        int n = members.Count;
        var head = new int[n + 1];
        var tail = new int[n + 1];
        head[n] = Builder.Rule(System.Array.Empty<Symbol>());
        tail[n] = head[n];
        for (int i = n - 1; i >= 0; i--)
        {
            var (key, value, required) = members[i];
            var member = new[] { key, _json.Ws, _json.Colon, _json.Ws, value };
            tail[i] = Builder.NewRule();
            Builder.Add(tail[i], [_json.Ws, _json.Comma, _json.Ws, .. member, Symbol.Ref(tail[i + 1])]);
            head[i] = Builder.NewRule();
            Builder.Add(head[i], [.. member, Symbol.Ref(tail[i + 1])]);
            if (!required)
            {
                Builder.Add(tail[i], Symbol.Ref(tail[i + 1]));
                Builder.Add(head[i], Symbol.Ref(head[i + 1]));
            }
        }

        return Symbol.Ref(Builder.Rule([JsonRules.Open('{'), _json.Ws, Symbol.Ref(head[0]), _json.Ws, JsonRules.Close('}')]));
    }

    private Symbol Array(JsonElement schema, string path)
    {
        var item = schema.TryGetProperty("items", out var items) ? Value(items, $"{path}/items") : _json.AnyValue(1);
        int min = Count(schema, "minItems", path) ?? 0;
        int? max = Count(schema, "maxItems", path);
        if (max < min)
        {
            throw Unsupported("maxItems", path, "'maxItems' is below 'minItems': no array is valid.");
        }

        return _json.Array(item, min, max);
    }

    private Symbol AnyOf(JsonElement anyOf, string path)
    {
        if (anyOf.ValueKind != JsonValueKind.Array || anyOf.GetArrayLength() == 0)
        {
            throw Unsupported("anyOf", path, "'anyOf' must be a non-empty array of schemas.");
        }

        var alternatives = CheckBranches(anyOf, "anyOf", path).EnumerateArray().Select((s, i) => new[] { Value(s, $"{path}/anyOf/{i}") }).ToArray();
        return Symbol.Ref(Builder.Rule(alternatives));
    }

    private Symbol Reference(JsonElement reference, string path)
    {
        var target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : "";
        if (_refs.TryGetValue(target, out int known))
        {
            return Symbol.Ref(known);
        }

        var parts = target.Split('/');
        if (parts.Length != 3 || parts[0] != "#" || parts[1] is not ("$defs" or "definitions")
            || !_document.TryGetProperty(parts[1], out var definitions) || definitions.ValueKind != JsonValueKind.Object
            || !definitions.TryGetProperty(Unescape(parts[2]), out var definition))
        {
            throw Unsupported("$ref", path, $"'$ref' must point into this schema's $defs or definitions (\"#/$defs/name\"); '{target}' does not.");
        }

        if (!_resolving.Add(target))
        {
            throw Unsupported("$ref", path, $"The recursive '$ref' to '{target}' is not supported by constrained decoding.");
        }

        var symbol = Value(definition, target[1..]);
        _resolving.Remove(target);
        _refs[target] = symbol.IsRule ? symbol.Rule : Builder.Rule([symbol]);
        return Symbol.Ref(_refs[target]);
    }

    /// <summary>enum/const: each value written compactly; values of a type the schema excludes are left out.</summary>
    private Symbol Literals(IReadOnlyList<JsonElement> values, JsonElement schema, string path)
    {
        var types = schema.TryGetProperty("type", out _) ? Types(schema, path) : null;
        var alternatives = values
            .Where(v => types is null || types.Any(t => HasType(v, t)))
            .Select(v => new[] { Builder.Literal(JsonSerializer.Serialize(v)) })
            .ToArray();
        return alternatives.Length == 0
            ? throw Unsupported("enum", path, "No value of 'enum'/'const' has the schema's 'type'.")
            : Symbol.Ref(Builder.Rule(alternatives));
    }

    private static bool HasType(JsonElement value, string type) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) && d == decimal.Truncate(d),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        _ => true,
    };

    private static JsonElement CheckBranches(JsonElement list, string keyword, string path) =>
        list.GetArrayLength() <= MaxBranches
            ? list
            : throw Unsupported(keyword, path, $"'{keyword}' with more than {MaxBranches} entries is not supported by constrained decoding.");

    private static int? Count(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int count) || count < 0)
        {
            throw Unsupported(keyword, path, $"'{keyword}' must be a non-negative integer.");
        }

        return count <= MaxCount ? count : throw Unsupported(keyword, path, $"'{keyword}' above {MaxCount} is not supported by constrained decoding.");
    }

    private static string Escape(string name) => name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string Unescape(string name) => name.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    private static UnsupportedSchemaException Unsupported(string keyword, string path, string message) =>
        new(keyword, path.Length == 0 ? "/" : path, path.Length == 0 ? message : $"{message} (at {path})");
}
