using System.Text.Json.Nodes;

namespace MmServe.TestSupport.Server;

/// <summary>
/// One server with mmserve-tiny and both family conformance bundles (Models list), and their golden cases as requests.
/// </summary>
public static class FamilyServing
{
    public static readonly string[] Families = [FamilyBundles.Blip2, FamilyBundles.Fuyu];

    private static readonly Dictionary<string, Lazy<List<GoldenCase>>> CasesByModel = Families.ToDictionary(
        f => f, f => new Lazy<List<GoldenCase>>(() => GoldenCases.Read(FamilyBundles.Golden(f))));

    /// <summary>The family's golden cases (cases.json), media inlined.</summary>
    public static IReadOnlyList<GoldenCase> Cases(string family) => CasesByModel[family].Value;

    public static GoldenCase Case(string family, string id) => Cases(family).Single(c => c.Id == id);

    /// <summary>mmserve-tiny (as <see cref="Chat.Model"/>) and the families (default: both of <see cref="Families"/>), each under its bundle id.</summary>
    public static Dictionary<string, string?> ServerSettings(IReadOnlyList<string>? families = null)
    {
        families ??= Families;
        var settings = new Dictionary<string, string?>
        {
            ["Model:Path"] = null,
            ["Models:0:Id"] = Chat.Model,
            ["Models:0:Path"] = TestPaths.Bundle,
            ["Limits:MaxRequestBodyBytes"] = (8 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        for (int i = 0; i < families.Count; i++)
        {
            settings[$"Models:{i + 1}:Id"] = families[i];
            settings[$"Models:{i + 1}:Path"] = FamilyBundles.Path(families[i]);
        }

        return settings;
    }

    /// <summary>A Fuyu case's patch grid (cases.json "image_grid": rows, cols), as the recipe computed it.</summary>
    public static (int Rows, int Cols) FuyuGrid(string id)
    {
        var root = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(FamilyBundles.Golden(FamilyBundles.Fuyu), "cases.json")))!;
        var grid = root["cases"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == id)!["image_grid"]!.AsArray();
        return (grid[0]!.GetValue<int>(), grid[1]!.GetValue<int>());
    }

    /// <summary>The id of an added (special) token in a family bundle's tokenizer.json.</summary>
    public static int AddedTokenId(string family, string token)
    {
        var root = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(FamilyBundles.Path(family), "tokenizer.json")))!;
        return root["added_tokens"]!.AsArray().Single(t => t!["content"]!.GetValue<string>() == token)!["id"]!.GetValue<int>();
    }

    /// <summary>The greedy request that must reproduce the case, addressed to <paramref name="model"/>.</summary>
    public static JsonObject Request(GoldenCase golden, string model)
    {
        var body = golden.ToRequest();
        body["model"] = model;
        return body;
    }
}
