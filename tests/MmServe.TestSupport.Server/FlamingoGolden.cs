namespace MmServe.TestSupport.Server;

/// <summary>
/// tiny-flamingo, the gated cross-attention conformance bundle (models/families/tiny-flamingo, trained by
/// tools/reference-model/families/flamingo.py), and its golden cases as requests to the model id it is served under.
/// </summary>
public static class FlamingoGolden
{
    public const string Model = "tiny-flamingo";

    public static string Bundle { get; } = Path.Combine(TestPaths.RepoRoot, "models", "families", Model);

    public static IReadOnlyList<GoldenCase> Cases { get; } = GoldenCases.Read(Path.Combine(Bundle, "golden"));

    public static GoldenCase Get(string id) => Cases.Single(c => c.Id == id);

    /// <summary>Images in a case's messages (the per-image masking matters for cases with two or more).</summary>
    public static int Images(GoldenCase golden) =>
        golden.Messages.ToJsonString().Split("\"type\":\"image_url\"").Length - 1;

    /// <summary>Configuration serving tiny-flamingo (first) and mmserve-tiny side by side in one process.</summary>
    public static Dictionary<string, string?> WithMmServeTiny() => new()
    {
        ["Model:Path"] = null,
        ["Models:0:Id"] = Model,
        ["Models:0:Path"] = Bundle,
        ["Models:1:Id"] = Chat.Model,
        ["Models:1:Path"] = TestPaths.Bundle,
        ["Models:1:Workers:0:Device"] = "cpu",
        ["Models:1:Workers:0:IntraOpThreads"] = "1",
    };
}
