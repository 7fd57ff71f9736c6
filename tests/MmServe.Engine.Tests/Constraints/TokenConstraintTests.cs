using System.Text.Json;
using MmServe.Engine.Constraints;

namespace MmServe.Engine.Tests.Constraints;

public sealed class TokenConstraintTests
{
    private static TokenConstraint For(string schema) =>
        new(JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement), JsonTestVocabulary.Create());

    private static float[] Logits() => new float[JsonTestVocabulary.Size];

    private static List<int> Allowed(ConstraintCursor cursor, int tokensLeft = 1000)
    {
        var logits = Logits();
        cursor.Mask(logits, tokensLeft);
        return [.. Enumerable.Range(0, logits.Length).Where(i => !float.IsNegativeInfinity(logits[i]))];
    }

    private static ConstraintCursor Feed(TokenConstraint constraint, params string[] tokens)
    {
        var cursor = new ConstraintCursor(constraint);
        foreach (var token in tokens)
        {
            int id = JsonTestVocabulary.IdOf(token);
            Assert.Contains(id, Allowed(cursor));
            cursor.Advance(id);
        }

        return cursor;
    }

    [Fact]
    public void Mask_AtTheStartOfAnObjectSchema_AllowsOnlyBoundedWhitespaceAndOpeningTokens()
    {
        var cursor = new ConstraintCursor(For("""{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"""));

        var allowed = Allowed(cursor).Select(id => JsonTestVocabulary.TextOf([id])).Order(StringComparer.Ordinal).ToList();

        // Whitespace is one space or a newline and an indent: "  " alone would start an unbounded run.
        Assert.Equal(["\n", " ", "{", "{\""], allowed);
    }

    [Fact]
    public void Mask_NeverAllowsSpecialTokens_AndAllowsEosOnlyOnceTheValueIsComplete()
    {
        var constraint = For("""{"type":"array","items":{"type":"integer"}}""");

        var open = Feed(constraint, "[", "1");
        Assert.DoesNotContain(JsonTestVocabulary.Special, Allowed(open));
        Assert.DoesNotContain(JsonTestVocabulary.Eos, Allowed(open));
        Assert.False(open.IsComplete);

        var closed = Feed(constraint, "[", "1", "]");
        Assert.True(closed.IsComplete);
        // Complete at top level: nothing may follow, not even whitespace.
        Assert.Equal([JsonTestVocabulary.Eos], Allowed(closed));
    }

    [Fact]
    public void TokensThatCrossJsonBoundaries_AreAllowedExactlyWhereTheirBytesFit()
    {
        var constraint = For("""{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""");

        var cursor = Feed(constraint, "{\"", "na", "me", "\":", " ", "\"", "ab", "\"", ",", "\"age\"", ":", "7", "}");

        Assert.True(cursor.IsComplete);
        Assert.DoesNotContain(JsonTestVocabulary.IdOf("{\""), Allowed(Feed(constraint, "{")));
        Assert.Contains(JsonTestVocabulary.IdOf("\"name\""), Allowed(Feed(constraint, "{")));
    }

    [Fact]
    public void Utf8_IsAcceptedOnlyAsWholeCharacters()
    {
        var constraint = For("""{"type":"string","maxLength":2}""");

        var split = Feed(constraint, "\"", "a");
        int leadByte = 27, continuation = 28;
        Assert.Contains(leadByte, Allowed(split));
        split.Advance(leadByte);
        // After a lead byte only its continuation may follow: no quote, no ASCII.
        Assert.Equal([continuation], Allowed(split));
        split.Advance(continuation);
        // "a" + "é" is two characters: maxLength reached, only the closing quote is left.
        Assert.Equal([JsonTestVocabulary.IdOf("\"")], Allowed(split));
    }

    [Fact]
    public void NearTheEndOfTheBudget_TheMaskSteersToTheShortestCompletion()
    {
        var constraint = For("""{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}""");
        var cursor = Feed(constraint, "{", "\"name\"", ":", "\"", "ab");

        // Two bytes still needed ("\"}") plus EOS: with 3 tokens left only tokens that close the string now may
        // come ("{\"" adds one character and closes it, leaving "}").
        var allowed = Allowed(cursor, tokensLeft: 3).Select(id => JsonTestVocabulary.TextOf([id])).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["\"", "\"}", "{\""], allowed);
        Assert.Contains(JsonTestVocabulary.IdOf("x"), Allowed(cursor, tokensLeft: 20));
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^a+$"}""", "pattern")]
    [InlineData("""{"type":"integer","minimum":3}""", "minimum")]
    [InlineData("""{"oneOf":[{"type":"string"}]}""", "oneOf")]
    [InlineData("""{"type":"object","properties":{"when":{"type":"string","format":"date-time"}}}""", "format")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"required":["b"]}""", "required")]
    [InlineData("""{"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"}}},"$ref":"#/$defs/n"}""", "$ref")]
    [InlineData("""{"type":"date"}""", "type")]
    public void UnsupportedSchemas_AreRefusedNamingTheKeyword(string schema, string keyword)
    {
        var error = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement));

        Assert.Equal(keyword, error.Keyword);
        Assert.Contains(keyword, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SchemaWhoseCountsMultiplyPastTheLimit_IsRefusedNotCompiled()
    {
        var properties = string.Join(",", Enumerable.Range(0, 300).Select(i => $"\"p{i}\":{{\"type\":\"string\",\"maxLength\":4096}}"));

        var error = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaGrammar.Compile(JsonDocument.Parse($"{{\"type\":\"object\",\"properties\":{{{properties}}}}}").RootElement));

        Assert.Equal("schema", error.Keyword);
    }

    [Theory]
    [InlineData("properties")]
    [InlineData("enum")]
    [InlineData("anyOf")]
    public void MoreBranchesThanTheLimit_AreRefused(string keyword)
    {
        var many = Enumerable.Range(0, JsonSchemaGrammar.MaxBranches + 1);
        string schema = keyword switch
        {
            "properties" => $"{{\"type\":\"object\",\"properties\":{{{string.Join(",", many.Select(i => $"\"p{i}\":{{\"type\":\"integer\"}}"))}}}}}",
            "enum" => $"{{\"enum\":[{string.Join(",", many)}]}}",
            _ => $"{{\"anyOf\":[{string.Join(",", many.Select(i => $"{{\"const\":{i}}}"))}]}}",
        };

        var error = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement));

        Assert.Equal(keyword, error.Keyword);
    }

    [Fact]
    public void AThousandOptionalProperties_CompileAndMask_WithinAWorkerThreadsStack()
    {
        var properties = string.Join(",", Enumerable.Range(0, JsonSchemaGrammar.MaxBranches).Select(i => $"\"p{i}\":{{\"type\":\"integer\"}}"));
        var constraint = For($"{{\"type\":\"object\",\"properties\":{{{properties}}},\"additionalProperties\":false}}");
        List<int>? allowed = null;

        // The engine's workers are plain threads with the default stack: the automaton's recursion must fit one.
        var worker = new Thread(() => allowed = Allowed(Feed(constraint, "{")));
        worker.Start();
        worker.Join();

        Assert.Contains(JsonTestVocabulary.IdOf("}"), allowed!);
        Assert.Contains(JsonTestVocabulary.IdOf("\""), allowed!);
    }
}
