namespace MmServe.TestSupport;

/// <summary>The architecture-family conformance bundles (models/families, issue 19) that these tests serve.</summary>
public static class FamilyBundles
{
    /// <summary>Instruction-aware Q-Former (InstructBLIP form; the plain BLIP-2 form is its component image_projector_plain).</summary>
    public const string Blip2 = "tiny-blip2";

    /// <summary>Encoder-free patch projection with row breaks (Fuyu form).</summary>
    public const string Fuyu = "tiny-fuyu";

    /// <summary>models/families, or MMSERVE_FAMILY_BUNDLES when set (e.g. freshly trained bundles).</summary>
    public static string Root { get; } =
        Environment.GetEnvironmentVariable("MMSERVE_FAMILY_BUNDLES") is { Length: > 0 } custom
            ? custom
            : System.IO.Path.Combine(TestPaths.RepoRoot, "models", "families");

    public static string Path(string id) => System.IO.Path.Combine(Root, id);

    public static string Golden(string id) => System.IO.Path.Combine(Root, id, "golden");
}
