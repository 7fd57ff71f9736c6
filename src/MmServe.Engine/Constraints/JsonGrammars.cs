namespace MmServe.Engine.Constraints;

/// <summary>Ready-made grammars for JSON of unknown shape, each optionally preceded by whitespace.</summary>
public static class JsonGrammars
{
    /// <summary>Any JSON object (OpenAI's json_object mode).</summary>
    public static Grammar AnyObject() => Build(json => json.AnyObject());

    /// <summary>Any JSON value.</summary>
    public static Grammar AnyValue() => Build(json => json.AnyValue());

    /// <summary>A grammar of optional whitespace followed by the value <paramref name="value"/> adds to a fresh builder.</summary>
    internal static Grammar Build(Func<JsonRules, Symbol> value)
    {
        var json = new JsonRules(new GrammarBuilder());
        var root = value(json);
        return json.Builder.Build(json.Builder.Rule([json.Ws, root]));
    }
}
