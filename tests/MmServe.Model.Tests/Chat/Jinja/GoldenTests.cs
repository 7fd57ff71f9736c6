using System.Text.Json;
using MmServe.Model.Chat.Jinja;

namespace MmServe.Model.Tests.Chat.Jinja;

/// <summary>
/// Every real template × conversation in golden.json (rendered by @huggingface/jinja, see tools/jinja-oracle)
/// renders to exactly the same text here, or fails where the reference fails.
/// </summary>
public sealed class GoldenTests
{
    private static readonly string JinjaDir = Path.Combine(TestPaths.RepoRoot, "tests", "MmServe.Model.Tests", "Chat", "Jinja");

    private static readonly Lazy<JsonElement> Golden = new(() =>
    {
        using var stream = File.OpenRead(Path.Combine(JinjaDir, "golden.json"));
        using var document = JsonDocument.Parse(stream);
        return document.RootElement.Clone();
    });

    private static readonly Lazy<JsonElement[]> Cases = new(() => [.. Golden.Value.GetProperty("cases").EnumerateArray()]);

    /// <summary>The instant the oracle froze its clock at (UTC).</summary>
    internal static readonly DateTimeOffset OracleNow = new(2026, 7, 4, 9, 5, 0, TimeSpan.Zero);

    public static TheoryData<int, string> CaseIndexes()
    {
        var data = new TheoryData<int, string>();
        for (int i = 0; i < Cases.Value.Length; i++)
        {
            var c = Cases.Value[i];
            string conversation = c.GetProperty("conversation").ValueKind == JsonValueKind.Null ? "(parse)" : c.GetProperty("conversation").GetString()!;
            string prompt = c.TryGetProperty("add_generation_prompt", out var add) && add.GetBoolean() ? "+gen" : string.Empty;
            data.Add(i, $"{c.GetProperty("template").GetString()} {conversation}{prompt}");
        }

        return data;
    }

    [Fact]
    public void Corpus_is_large_enough()
    {
        int templates = Directory.GetFiles(Path.Combine(JinjaDir, "Templates"), "*.jinja").Length;
        Assert.True(templates >= 25, $"{templates} templates");
        Assert.Equal(templates, Cases.Value.Select(c => c.GetProperty("template").GetString()).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void Renders_like_the_reference(int index, string name)
    {
        _ = name; // only names the case in test reports
        RenderCase(index);
    }

    private static void RenderCase(int index)
    {
        var c = Cases.Value[index];
        string source = File.ReadAllText(Path.Combine(JinjaDir, "Templates", c.GetProperty("template").GetString() + ".jinja"));
        if (c.GetProperty("conversation").ValueKind == JsonValueKind.Null)
        {
            // The reference could not parse this template at all.
            Assert.ThrowsAny<TemplateException>(() => JinjaTemplate.Parse(source));
            return;
        }

        var template = JinjaTemplate.Parse(source);
        var golden = Golden.Value;
        var context = new Dictionary<string, object?>
        {
            ["messages"] = golden.GetProperty("conversations").GetProperty(c.GetProperty("conversation").GetString()!),
            ["add_generation_prompt"] = c.GetProperty("add_generation_prompt").GetBoolean(),
            ["bos_token"] = golden.GetProperty("bos_token").GetString(),
            ["eos_token"] = golden.GetProperty("eos_token").GetString(),
        };
        if (c.GetProperty("tools").GetBoolean())
        {
            context["tools"] = golden.GetProperty("tools");
        }

        string Render() => template.Render(context, new FixedClock(OracleNow));

        if (c.TryGetProperty("output", out var output))
        {
            Assert.Equal(output.GetString(), Render());
            return;
        }

        // Runtime errors carry the reference's wording, so a raise_exception case cannot pass by failing otherwise.
        string expected = c.GetProperty("error").GetString()!;
        var error = Assert.ThrowsAny<TemplateException>(Render);
        Assert.Equal(expected, error is TemplateRaisedException raised ? raised.RaisedMessage : error.Reason);
    }

    internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
