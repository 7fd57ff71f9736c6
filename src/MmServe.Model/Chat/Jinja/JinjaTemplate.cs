using System.Globalization;
using System.Text.RegularExpressions;

namespace MmServe.Model.Chat.Jinja;

/// <summary>
/// A Hugging Face chat template (the <c>chat_template</c> of tokenizer_config.json or chat_template.jinja), rendered
/// as @huggingface/jinja 0.5.11 renders it: trim_blocks and lstrip_blocks on, JavaScript-flavoured value printing
/// (<c>true</c>, <c>1.0</c>, dicts as JSON). A parsed template is immutable; Render is safe to call concurrently.
/// </summary>
/// <remarks>
/// Not supported: include/import/extends/with and other statements the reference lacks (parse error); filters and
/// tests outside the reference's set (error when reached). Known deviations: powers may differ from V8's in the last
/// digit; upper()/lower() use invariant casing plus ß→SS (no final-sigma rule); objects keep their insertion order
/// even for integer-like keys (JavaScript would move those first).
/// </remarks>
/// <example>
/// <code>
/// var template = JinjaTemplate.Parse(source);          // TemplateException (with line and column) if unsupported
/// string prompt = template.Render(new Dictionary&lt;string, object?&gt;
/// {
///     ["messages"] = messages,                          // lists/dictionaries of CLR values, or JsonElement
///     ["add_generation_prompt"] = true,
///     ["bos_token"] = "&lt;s&gt;",
/// });                                                   // TemplateRaisedException if the template calls raise_exception
/// </code>
/// </example>
public sealed partial class JinjaTemplate
{
    private readonly SourceText source;
    private readonly List<Node> body;

    private JinjaTemplate(SourceText source)
    {
        this.source = source;
        body = Parser.Parse(source);
    }

    /// <summary>
    /// Parses a template. Statements and syntax this interpreter does not implement fail here; a filter or test it
    /// lacks fails when rendering reaches it (as in the reference, so templates that only name one in a branch work).
    /// </summary>
    public static JinjaTemplate Parse(string source) => new(SourceText.Preprocess(source));

    /// <summary>The template as written.</summary>
    public string Source => source.Original;

    /// <summary>
    /// Renders with the given variables. Values may be null, strings, booleans, numbers, dictionaries with string keys
    /// (their order is kept), sequences, or <see cref="System.Text.Json.JsonElement"/>. <paramref name="clock"/> serves
    /// <c>strftime_now</c> (local time of the provider; the system clock by default).
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> context, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        var environment = new Scope();
        DefineGlobals(environment, clock);
        foreach (var (name, value) in context)
        {
            if (environment.Lookup(name) is not Undefined)
            {
                throw new TemplateException($"Variable already declared: {name}");
            }

            environment.Set(name, Values.FromClr(value));
        }

        return new Interpreter(source).Render(body, environment);
    }

    private static void DefineGlobals(Scope environment, TimeProvider clock)
    {
        foreach (var (name, value) in new (string, object)[] { ("true", true), ("false", false), ("none", NoneValue.Instance), ("True", true), ("False", false), ("None", NoneValue.Instance) })
        {
            environment.Set(name, value);
        }

        environment.Set("namespace", new FunctionValue((args, _) => Namespace(args)));
        environment.Set("raise_exception", new FunctionValue((args, _) =>
            throw new TemplateRaisedException(args.Count > 0 ? Values.Raw(args[0]) : "undefined")));
        environment.Set("range", new FunctionValue((args, _) => Range(args)));
        environment.Set("strftime_now", new FunctionValue((args, _) =>
            Strftime(clock.GetLocalNow().DateTime, args.Count > 0 ? Values.Raw(args[0]) : "undefined")));
    }

    private static DictValue Namespace(List<object> args)
    {
        var positional = new List<object>(args);
        DictValue? keywords = null;
        if (positional.Count > 0 && positional[^1] is DictValue { Kind: DictKind.KeywordArguments } kw)
        {
            keywords = kw;
            positional.RemoveAt(positional.Count - 1);
        }

        if (positional.Count > 1)
        {
            throw new TemplateException($"namespace expected at most 1 argument, got {positional.Count}");
        }

        var entries = new OrderedDictionary<string, object>();
        if (positional.Count == 1)
        {
            switch (positional[0])
            {
                case DictValue { IsMapping: true } source:
                    foreach (var (key, value) in source.Items)
                    {
                        entries[key] = value;
                    }

                    break;
                case ListValue pairs:
                    foreach (var pair in pairs.Items)
                    {
                        if (pair is not ListValue { Items: [string key, var value] })
                        {
                            throw new TemplateException("namespace expected an object or an iterable of [key, value] pairs");
                        }

                        entries[key] = value;
                    }

                    break;
                default:
                    throw new TemplateException($"'{Values.TypeName(positional[0])}' object is not iterable");
            }
        }

        foreach (var (key, value) in keywords?.Items ?? [])
        {
            entries[key] = value;
        }

        return new DictValue(entries, DictKind.Namespace);
    }

    private static ListValue Range(List<object> args)
    {
        double Number(int i) => args[i] switch
        {
            long l => l,
            double d => d,
            _ => throw new TemplateException("range() arguments must be numbers"),
        };

        if (args.Count == 0)
        {
            throw new TemplateException("range() expects at least one argument");
        }

        double start = args.Count == 1 ? 0 : Number(0), stop = args.Count == 1 ? Number(0) : Number(1), step = args.Count > 2 ? Number(2) : 1;
        if (step == 0)
        {
            throw new TemplateException("range() step must not be zero");
        }

        var result = new List<object>();
        for (double i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            result.Add(i == Math.Floor(i) ? (object)(long)i : i);
        }

        return new ListValue(result);
    }

    /// <summary>The reference's strftime: %Y %m %d %b %B %H %M %% (English month names); other directives stay as written.</summary>
    internal static string Strftime(DateTime time, string format) => StrftimeRegex().Replace(format, m => m.Value switch
    {
        "%Y" => time.Year.ToString(CultureInfo.InvariantCulture),
        "%m" => time.Month.ToString("00", CultureInfo.InvariantCulture),
        "%d" => time.Day.ToString("00", CultureInfo.InvariantCulture),
        "%b" => time.ToString("MMM", CultureInfo.InvariantCulture),
        "%B" => time.ToString("MMMM", CultureInfo.InvariantCulture),
        "%H" => time.Hour.ToString("00", CultureInfo.InvariantCulture),
        "%M" => time.Minute.ToString("00", CultureInfo.InvariantCulture),
        _ => "%",
    });

    [GeneratedRegex("%[YmdbBHM%]")]
    private static partial Regex StrftimeRegex();
}
