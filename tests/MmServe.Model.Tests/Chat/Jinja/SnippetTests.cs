using System.Text.Json;
using MmServe.Model.Chat.Jinja;

namespace MmServe.Model.Tests.Chat.Jinja;

/// <summary>
/// Small snippets in snippets.json (rendered by @huggingface/jinja, see tools/jinja-oracle/render-snippets.mjs) pin
/// down printing, operators, filters, methods, scoping and errors beyond what the real templates exercise.
/// </summary>
public sealed class SnippetTests
{
    private static readonly Lazy<(JsonElement Context, JsonElement[] Cases)> Data = new(() =>
    {
        string path = Path.Combine(TestPaths.RepoRoot, "tests", "MmServe.Model.Tests", "Chat", "Jinja", "snippets.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement.Clone();
        return (root.GetProperty("context"), [.. root.GetProperty("cases").EnumerateArray()]);
    });

    public static TheoryData<int> Indexes() => [.. Enumerable.Range(0, Data.Value.Cases.Length)];

    [Theory]
    [MemberData(nameof(Indexes))]
    public void Renders_like_the_reference(int index)
    {
        var c = Data.Value.Cases[index];
        string source = c.GetProperty("source").GetString()!;
        var context = Data.Value.Context.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);

        if (c.TryGetProperty("output", out var output))
        {
            var template = JinjaTemplate.Parse(source);
            string actual = template.Render(context, new GoldenTests.FixedClock(GoldenTests.OracleNow));
            if (source.Contains("**", StringComparison.Ordinal)
                && double.TryParse(output.GetString(), System.Globalization.CultureInfo.InvariantCulture, out double reference)
                && double.TryParse(actual, System.Globalization.CultureInfo.InvariantCulture, out double ours))
            {
                // V8's pow is not correctly rounded (7 ** -2 is 0.020408163265306124); .NET's may differ in the last digit.
                Assert.Equal(reference, ours, Math.Abs(reference) * 1e-15);
                return;
            }

            Assert.Equal(output.GetString(), actual);
            return;
        }

        string expected = c.GetProperty("error").GetString()!;
        JinjaTemplate parsed;
        try
        {
            parsed = JinjaTemplate.Parse(source);
        }
        catch (TemplateException)
        {
            // Refused at parse time, like the reference (whose parser messages name its own token types).
            return;
        }

        var error = Assert.ThrowsAny<TemplateException>(() => parsed.Render(context));
        if (!expected.StartsWith("Cannot read properties of undefined", StringComparison.Ordinal))
        {
            // Not a JavaScript TypeError inside the reference: the wording is the reference's own.
            Assert.Equal(expected, error is TemplateRaisedException raised ? raised.RaisedMessage : error.Reason);
        }
    }
}
