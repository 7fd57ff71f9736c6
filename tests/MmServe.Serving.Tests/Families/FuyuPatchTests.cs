using System.Text.Json.Nodes;
using MmServe.Media.Images;
using MmServe.Model.Chat;
using MmServe.Serving.Media;

namespace MmServe.Serving.Tests.Families;

/// <summary>Fuyu's preprocessing (patch grid by image size) and prompt layout (a row-break token after every row).</summary>
public sealed class FuyuPatchTests
{
    private static readonly FuyuPatchSpec Spec = new(8, 16, 16, 96, 96, 1.0 / 255.0, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], 0.0, Bgr: false);

    [Theory]
    [InlineData(64, 64, 8, 8)]
    [InlineData(17, 33, 5, 3)]
    [InlineData(96, 16, 2, 12)]
    [InlineData(41, 40, 5, 6)]
    public void Grid_CoversTheImageWithWholePatches(int width, int height, int rows, int cols)
    {
        Assert.Equal((rows, cols), Spec.Grid(width, height));
    }

    public static TheoryData<string> PreprocessingEntries =>
        [.. Index()["entries"]!.AsArray().Select(e => e!["input"]!.GetValue<string>())];

    [Theory]
    [MemberData(nameof(PreprocessingEntries))]
    public void Patchify_EqualsTheRecipesPatches(string input)
    {
        var index = Index();
        var entry = index["entries"]!.AsArray().Single(e => e!["input"]!.GetValue<string>() == input)!;
        string dir = Path.Combine(FamilyBundles.Golden(FamilyBundles.Fuyu), "preprocessing");
        var image = new SafeImageDecoder().Decode(File.ReadAllBytes(Path.Combine(dir, input))).Value!;
        var item = FuyuPatchPreprocessor.Patchify(image, BundleSpec());
        var expected = Npy.Read(Path.Combine(dir, entry["expected"]!.GetValue<string>())).AsFloat32();
        var grid = entry["grid"]!.AsArray();
        Assert.Equal((grid[0]!.GetValue<int>(), grid[1]!.GetValue<int>()), FuyuMediaItem.Grid(item));
        var patches = FuyuMediaItem.Patches(item).ToArray();
        Assert.Equal(expected.Length, patches.Length);
        double tolerance = index["tolerance"]!.GetValue<double>();
        var worst = expected.Zip(patches, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= tolerance, $"{input}: worst difference {worst}");
    }

    [Fact]
    public void Patchify_OrdersValuesRowColumnChannel_AndPadsWithThePaddingValue()
    {
        // A 9x8 image: 2 columns of patches, the second holding one real pixel column and 7 padded ones.
        var pixels = new byte[9 * 8 * 3];
        pixels[(((2 * 9) + 8) * 3) + 1] = 255; // pixel (x 8, y 2), green
        var item = FuyuPatchPreprocessor.Patchify(new RgbImage(9, 8, pixels), Spec);
        var patches = FuyuMediaItem.Patches(item).Span;
        Assert.Equal((1, 2), FuyuMediaItem.Grid(item));
        int second = Spec.PatchDimension;
        Assert.Equal(2f, patches[second + (((2 * 8) + 0) * 3) + 1]); // (255/255 - 0.5) / 0.25
        Assert.Equal(-2f, patches[second + (((2 * 8) + 0) * 3) + 0]); // (0 - 0.5) / 0.25
        Assert.Equal(0f, patches[second + (((2 * 8) + 1) * 3) + 0]); // padding
        Assert.Equal(-2f, patches[(((7 * 8) + 7) * 3) + 2]); // first patch, last pixel
    }

    [Theory]
    [InlineData(15, 40)]
    [InlineData(40, 15)]
    [InlineData(97, 40)]
    [InlineData(40, 97)]
    public async Task Preprocess_RefusesImagesOutsideTheLimits(int width, int height)
    {
        var pre = new FuyuPatchPreprocessor(Spec, new ImageLimits());
        var result = await pre.PreprocessAsync(TestImages.SolidPng(width, height, 1, 2, 3), null, CancellationToken.None);
        Assert.False(result.IsSuccess);
        Assert.Equal(FuyuPatchPreprocessor.ImageSizeOutOfRange, result.Error.Code);
    }

    [Theory]
    [InlineData(16, 16)]
    [InlineData(96, 96)]
    public async Task Preprocess_AcceptsTheLimitsThemselves(int width, int height)
    {
        var pre = new FuyuPatchPreprocessor(Spec, new ImageLimits());
        var result = await pre.PreprocessAsync(TestImages.SolidPng(width, height, 1, 2, 3), null, CancellationToken.None);
        Assert.True(result.IsSuccess);
        Assert.Equal(FuyuMediaItem.GridLength + (width / 8 * (height / 8) * Spec.PatchDimension), result.Value.Length);
    }

    [Fact]
    public void RowBreakRuns_WriteTheRowBreakAfterEveryRow_AndSplitTheEmbeddingsPerRow()
    {
        const int hidden = 2;
        var embeddings = Enumerable.Range(0, 2 * 3 * hidden).Select(i => (float)i).ToArray();
        var encoded = FuyuMediaItem.Encoded((2, 3), embeddings, hidden);
        Assert.Equal(8, FuyuMediaItem.Positions(encoded));
        var ids = Enumerable.Repeat(7, 12).ToArray();
        var placed = RowBreakRuns.Place(ids, new MediaSpan("image", 0, 2, 8), encoded, rowBreakId: 99, hidden).ToList();
        Assert.Equal([7, 7, 7, 7, 7, 99, 7, 7, 7, 99, 7, 7], ids);
        Assert.Equal([(2, 3), (6, 3)], placed.Select(p => (p.Start, p.Length)));
        Assert.Equal([6f, 7f, 8f, 9f, 10f, 11f], placed[1].Embeddings.ToArray());
    }

    [Fact]
    public void RowBreakRuns_RefuseASpanThatIsNotTheGridsRun()
    {
        var encoded = FuyuMediaItem.Encoded((2, 3), new float[12], 2);
        Assert.Throws<InvalidOperationException>(() => RowBreakRuns.Place(new int[20], new MediaSpan("image", 0, 0, 6), encoded, 99, 2).ToList());
    }

    private static JsonNode Index() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(FamilyBundles.Golden(FamilyBundles.Fuyu), "preprocessing", "index.json")))!;

    private static FuyuPatchSpec BundleSpec()
    {
        var model = new ServedModel(FamilyBundles.Path(FamilyBundles.Fuyu), null, TestPaths.RepoRoot, "Model:Path");
        return FuyuPatchSpec.From(model.Bundle.Manifest.InputModalities["image"].Preprocessing, "test");
    }
}
