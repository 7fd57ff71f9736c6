namespace MmServe.TestSupport.Server;

/// <summary>
/// Golden cases of an architecture-family conformance bundle (models/families/&lt;id&gt;/golden/cases.json, written by
/// tools/reference-model/families in mmserve-tiny's format), media inlined: images as data: URLs, input_tensor parts'
/// .npy files as base64.
/// </summary>
public static class FamilyGolden
{
    /// <summary>Every case of <paramref name="model"/>, its requests addressed to <paramref name="servedAs"/> (default: the model id).</summary>
    public static IReadOnlyList<GoldenCase> Load(string model, string? servedAs = null) =>
        [.. GoldenCases.Read(FamilyBundles.Golden(model)).Select(c => c with { Model = servedAs ?? model })];
}
