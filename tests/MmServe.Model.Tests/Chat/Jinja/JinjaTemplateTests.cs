using MmServe.Model.Chat.Jinja;

namespace MmServe.Model.Tests.Chat.Jinja;

/// <summary>Focused checks of the lexer, parser and evaluator; the expected strings are what @huggingface/jinja renders.</summary>
public sealed class JinjaTemplateTests
{
    private static string Render(string source, IReadOnlyDictionary<string, object?>? context = null) =>
        JinjaTemplate.Parse(source).Render(context ?? new Dictionary<string, object?>());

    [Theory]
    [InlineData("{% if true %}\nX\n{% endif %}\nY", "X\nY")] // trim_blocks: the newline after a block tag goes
    [InlineData("  {% if true %}X{% endif %}", "X")] // lstrip_blocks: indentation before a block tag goes
    [InlineData("\t {# note #}X", "X")]
    [InlineData("  {{ 'X' }}", "  X")] // ...but not before an expression
    [InlineData("a {% if true %}X{% endif %}", "a X")] // ...nor after other text on the line
    [InlineData("{{ 'X' }}\nY", "X\nY")] // trim_blocks leaves expressions alone
    [InlineData("X\n", "X")] // one trailing newline is dropped
    [InlineData("X\n\n", "X\n")]
    public void Applies_trim_blocks_and_lstrip_blocks(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("a  \n {{- 'b' -}} \n  c", "abc")]
    [InlineData("a \n{%- if true -%}\n b \n{%- endif -%}\n c", "abc")]
    [InlineData("a  {#- comment -#}  b", "ab")]
    [InlineData("{{ 'a' }}  {{- ' b' }}", "a b")]
    public void Honours_whitespace_control(string source, string expected) => Assert.Equal(expected, Render(source));

    [Fact]
    public void Exposes_loop_variables()
    {
        Assert.Equal(
            "1 0 true false 3|2 1 false false 3|3 2 false true 3|",
            Render("{% for x in ['a', 'b', 'c'] %}{{ loop.index }} {{ loop.index0 }} {{ loop.first }} {{ loop.last }} {{ loop.length }}|{% endfor %}"));
        Assert.Equal("a<b,b<c,", Render("{% for x in ['a', 'b', 'c'] if x != 'z' %}{% if not loop.last %}{{ x }}<{{ loop.nextitem }},{% endif %}{% endfor %}"));
    }

    [Fact]
    public void Loops_over_dicts_in_insertion_order_and_has_else()
    {
        var context = new Dictionary<string, object?>
        {
            ["d"] = new Dictionary<string, object?> { ["z"] = 1, ["a"] = "x" },
            ["empty"] = Array.Empty<object>(),
        };
        Assert.Equal("z=1;a=x;", Render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", context));
        Assert.Equal("z,a", Render("{% for k in d %}{{ k }}{% if not loop.last %},{% endif %}{% endfor %}", context));
        Assert.Equal("none", Render("{% for x in empty %}{{ x }}{% else %}none{% endfor %}", context));
        Assert.Equal("13", Render("{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"));
    }

    [Fact]
    public void Namespaces_carry_state_out_of_loops_but_plain_sets_do_not()
    {
        Assert.Equal("6", Render("{% set ns = namespace(total=0) %}{% for x in [1, 2, 3] %}{% set ns.total = ns.total + x %}{% endfor %}{{ ns.total }}"));
        Assert.Equal("0", Render("{% set n = 0 %}{% for x in [1] %}{% set n = 5 %}{% endfor %}{{ n }}"));
        Assert.Equal("5", Render("{% if true %}{% set n = 5 %}{% endif %}{{ n }}"));
        Assert.Throws<TemplateException>(() => Render("{% set d = {} %}{% set d.x = 1 %}"));
    }

    [Theory]
    [InlineData("{{ [1, 2, 3, 4][::-1] }}", "[4, 3, 2, 1]")]
    [InlineData("{{ [1, 2, 3, 4][1:] }}", "[2, 3, 4]")]
    [InlineData("{{ [1, 2, 3, 4][-2:] }}", "[3, 4]")]
    [InlineData("{{ [1, 2, 3, 4][::2] }}", "[1, 3]")]
    [InlineData("{{ 'hello'[1:-1] }}", "ell")]
    [InlineData("{{ 'hello'[::-1] }}", "olleh")]
    [InlineData("{{ 'hello'[-1] }}", "o")]
    public void Slices_and_indexes(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ {'a': 1, 'b': [true, none, 'é\"']} | tojson }}", "{\"a\": 1, \"b\": [true, null, \"é\\\"\"]}")]
    [InlineData("{{ {'a': 1, 'b': [2]} | tojson(indent=2) }}", "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}")]
    [InlineData("{{ 'é' | tojson(ensure_ascii=true) }}", "\"\\u00e9\"")]
    [InlineData("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}", "{\"a\": 2, \"b\": 1}")]
    [InlineData("{{ {'a': [1, 2]} | tojson(separators=(',', ':')) }}", "{\"a\":[1,2]}")]
    [InlineData("{{ {'a': 1} }}", "{\"a\": 1}")] // dicts print as JSON, not as Python reprs
    public void Serializes_json_like_the_reference(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ true }} {{ none }} {{ 1.0 }} {{ 2.5 }} {{ 7 // 2 }} {{ 7 / 2 }} {{ 7 % 3 }} {{ 2 ** 10 }}", "true  1.0 2.5 3 3.5 1 1024")]
    [InlineData("{{ 'a' ~ 1 ~ 1.0 }} {{ 'a' + 2 }}", "a11 a2")] // concatenation uses JavaScript's number printing
    [InlineData("{{ 1 if false }}|{{ 'x' if 1 > 2 else 'y' }}|{{ missing }}|{{ missing.attr }}", "|y||")]
    [InlineData("{{ 'b' in 'abc' }} {{ 'z' not in ['a'] }} {{ 'k' in {'k': 1} }} {{ not 0 and 'x' or 'y' }}", "true true true x")]
    [InlineData("{{ missing is defined }} {{ none is none }} {{ 'x' is string }} {{ {} is mapping }} {{ [1] is iterable }} {{ 1.5 is number }} {{ false is false }} {{ 1 is true }}",
        "false true true true true true true false")]
    public void Evaluates_expressions(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ '  Hi  '.strip() }}|{{ '  Hi'.lstrip() }}|{{ 'Hi  '.rstrip() }}", "Hi|Hi|Hi")]
    [InlineData("{{ 'a,b,c'.split(',') | join('-') }} {{ ' a  b '.split() | length }} {{ 'a,b,c'.split(',', 1) }}", "a-b-c 2 [\"a\", \"b,c\"]")]
    [InlineData("{{ 'abc'.startswith('a') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'aXa'.replace('a', 'b') }}", "true true bXb")]
    [InlineData("{{ 'hello wORLD'.title() }} {{ 'hello' | capitalize }} {{ 'Ab' | upper }}{{ 'Ab'.lower() }}", "Hello WORLD Hello ABab")]
    [InlineData("{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b', 'd') }} {{ {'a': 1}.keys() }} {{ {'a': 1}.values() }}", "1 d [\"a\"] [1]")]
    [InlineData("{{ [3, 1, 2] | sort | first }} {{ [3, 1, 2] | last }} {{ ['a', 'b'] | join(', ') }} {{ '5' | int + 1 }} {{ 3 | string }}", "1 2 a, b 6 3")]
    [InlineData("{{ missing | default('d') }} {{ '' | default('d', true) }} {{ 'line1\nline2' | indent(2) }} {{ ' x ' | trim }}", "d d line1\n  line2 x")]
    public void Implements_string_dict_and_list_helpers(string source, string expected) => Assert.Equal(expected, Render(source));

    [Fact]
    public void Filters_lists_of_messages()
    {
        var context = new Dictionary<string, object?>
        {
            ["messages"] = new[]
            {
                new Dictionary<string, object?> { ["role"] = "system", ["content"] = "S" },
                new Dictionary<string, object?> { ["role"] = "user", ["content"] = "U" },
            },
        };
        Assert.Equal("U", Render("{{ (messages | rejectattr('role', 'equalto', 'system') | list | first).content }}", context));
        Assert.Equal("[\"system\", \"user\"]", Render("{{ messages | map(attribute='role') | list }}", context));
        Assert.Equal("1", Render("{{ messages | selectattr('role', 'equalto', 'system') | list | length }}", context));
    }

    [Fact]
    public void Macros_take_positional_keyword_and_default_arguments()
    {
        Assert.Equal("<a|x>|<b|y>", Render("{% macro tag(name, value='x') %}<{{ name }}|{{ value }}>{% endmacro %}{{ tag('a') }}|{{ tag('b', value='y') }}"));
    }

    [Theory]
    [InlineData("{% macro list(items) %}<{% for i in items %}{{ caller(i) }}{% endfor %}>{% endmacro %}{% call(x) list([1, 2]) %}[{{ x }}]{% endcall %}", "<[1][2]>")]
    [InlineData("{% macro box() %}({{ caller() }}){% endmacro %}{% call box() %}in{% endcall %}", "(in)")]
    [InlineData("{% filter upper %}hello {{ 1 }}{% endfilter %}|{% filter replace('a', 'b') %}banana{% endfilter %}", "HELLO 1|bbnbnb")]
    [InlineData("{% macro m(a, b, c=3) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(*[1, 2]) }} {{ m(**{'a': 4, 'b': 5, 'c': 6}) }} {{ m(7, *[8]) }}", "123 456 783")]
    public void Supports_call_and_filter_blocks_and_argument_unpacking(string source, string expected) => Assert.Equal(expected, Render(source));

    [Fact]
    public void Raise_exception_fails_with_the_templates_message()
    {
        var error = Assert.Throws<TemplateRaisedException>(() => Render("{{ raise_exception('Roles must alternate') }}"));
        Assert.Equal("Roles must alternate", error.RaisedMessage);
    }

    [Fact]
    public void Strftime_now_uses_the_injected_clock()
    {
        var template = JinjaTemplate.Parse("{{ strftime_now('%d %b %Y, %B %H:%M %%') }}");
        Assert.Equal("04 Jul 2026, July 09:05 %", template.Render(new Dictionary<string, object?>(), new GoldenTests.FixedClock(GoldenTests.OracleNow)));
    }

    [Theory]
    [InlineData("line one\n{% with x = 1 %}{% endwith %}", 2, 1, "Unsupported statement 'with'")]
    [InlineData("a\nb {% import 'm.jinja' as m %}", 2, 3, "Unsupported statement 'import'")]
    [InlineData("{% include 'other.jinja' %}", 1, 1, "Unsupported statement 'include'")]
    [InlineData("x\n  {% macro m(*args) %}{% endmacro %}", 2, 14, "Argument unpacking is not allowed in parameter declarations")]
    [InlineData("{{ f(**a, b) }}", 1, 11, "`**` must be applied to the final argument")]
    [InlineData("{{ 'a' ! 'b' }}", 1, 8, "Unexpected character")]
    [InlineData("{% if x %}never closed", 1, 23, "Missing {% endif %}")]
    [InlineData("{{ x ", 1, 6, "Unexpected end")]
    public void Rejects_unsupported_or_malformed_templates_at_parse_time_with_their_position(string source, int line, int column, string message)
    {
        var error = Assert.Throws<TemplateException>(() => JinjaTemplate.Parse(source));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Fact]
    public void An_unknown_filter_parses_but_fails_where_rendering_reaches_it()
    {
        // Llama 3.1 names `reject` in a branch only builtin tools take; the reference parses it too.
        var template = JinjaTemplate.Parse("{% if tools %}\n{{ tools | reject('x') }}{% endif %}ok");
        Assert.Equal("ok", template.Render(new Dictionary<string, object?> { ["tools"] = null }));
        var error = Assert.Throws<TemplateException>(() => template.Render(new Dictionary<string, object?> { ["tools"] = new[] { "a" } }));
        Assert.Contains("Unsupported filter 'reject' (template line 2, column 12)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rendering_errors_name_the_innermost_tag()
    {
        var template = JinjaTemplate.Parse("{% for m in messages %}\n  {{ m.content + 1 }}\n{% endfor %}");
        var error = Assert.Throws<TemplateException>(() => template.Render(new Dictionary<string, object?>
        {
            ["messages"] = new[] { new Dictionary<string, object?> { ["content"] = null } },
        }));
        Assert.Equal("Cannot perform operation on null values", error.Reason);
        Assert.Equal((2, 3), (error.Line, error.Column));
    }

    [Fact]
    public void Runaway_recursion_and_nesting_fail_cleanly()
    {
        var recursive = JinjaTemplate.Parse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
        Assert.Contains("nested deeper", Assert.Throws<TemplateException>(() => recursive.Render(new Dictionary<string, object?>())).Message, StringComparison.Ordinal);

        string deep = "{{ " + new string('(', 100_000) + "1" + new string(')', 100_000) + " }}";
        Assert.Contains("nests too deeply", Assert.Throws<TemplateException>(() => JinjaTemplate.Parse(deep)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Accepts_clr_values()
    {
        var context = new Dictionary<string, object?>
        {
            ["messages"] = new List<object?>
            {
                new Dictionary<string, object?> { ["role"] = "user", ["content"] = "hi", ["n"] = 3, ["x"] = 1.5f, ["ok"] = true, ["none"] = null },
            },
        };
        Assert.Equal("user hi 3 1.5 true  [\"role\", \"content\", \"n\", \"x\", \"ok\", \"none\"]",
            Render("{% for m in messages %}{{ m.role }} {{ m.content }} {{ m.n }} {{ m.x }} {{ m.ok }} {{ m.none }} {{ m.keys() }}{% endfor %}", context));
        Assert.Throws<TemplateException>(() => Render("{{ x }}", new Dictionary<string, object?> { ["x"] = new object() }));
        Assert.Throws<TemplateException>(() => Render("{{ true }}", new Dictionary<string, object?> { ["true"] = false }));
    }

    [Fact]
    public void Sorts_long_lists_stably_and_reports_comparison_errors()
    {
        var items = Enumerable.Range(0, 100).Select(i => (object?)new Dictionary<string, object?> { ["k"] = i % 3, ["i"] = i }).ToList();
        var context = new Dictionary<string, object?> { ["items"] = items };
        string sorted = Render("{{ items | sort(attribute='k') | map(attribute='i') | join(',') }}", context);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 100).OrderBy(i => i % 3)), sorted);

        var mixed = new Dictionary<string, object?> { ["items"] = Enumerable.Range(0, 100).Select(i => i == 50 ? (object)"x" : i).ToList() };
        var error = Assert.Throws<TemplateException>(() => Render("{{ items | sort }}", mixed));
        Assert.StartsWith("Cannot compare different types", error.Reason, StringComparison.Ordinal);
    }
}
