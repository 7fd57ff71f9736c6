using MmServe.Media.Images.HuggingFace;

namespace MmServe.Media.Tests.Images.HuggingFace;

/// <summary>
/// <see cref="PilResize"/> against Pillow's Image.resize (golden resize.npz): every byte must match, for all six
/// filters, down- and up-scaling, one axis unchanged, odd sizes, 1-pixel sides and extreme aspect ratios.
/// </summary>
public sealed class PilResizeTests
{
    public static TheoryData<string> CaseIds => HfGolden.Ids("resize");

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Resize_is_byte_identical_to_Pillow(string id)
    {
        var c = HfGolden.Case("resize", id);
        var source = HfGolden.LoadImage(c.GetProperty("input").GetString()!);
        int width = c.GetProperty("width").GetInt32();
        int height = c.GetProperty("height").GetInt32();
        var filter = Enum.Parse<PilResampling>(c.GetProperty("filter").GetString()!, ignoreCase: true);

        var resized = PilResize.Resize(source, width, height, filter);

        var expected = HfGolden.Array("resize", id);
        Assert.Equal([height, width, 3], expected.Shape);
        var actual = resized.Pixels.ToArray();
        int differing = 0, worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            int diff = Math.Abs(actual[i] - expected.Data[i]);
            differing += diff == 0 ? 0 : 1;
            worst = Math.Max(worst, diff);
        }

        Assert.True(differing == 0, $"{id}: {differing} of {actual.Length} bytes differ (max {worst})");
    }

    [Fact]
    public void Same_size_is_a_copy()
    {
        byte[] pixels = [1, 2, 3, 4, 5, 6];
        var resized = PilResize.Resize(new(2, 1, pixels), 2, 1, PilResampling.Bicubic);
        Assert.Equal(pixels, resized.Pixels.ToArray());
    }

    [Fact]
    public void Rejects_bad_sizes_and_filters()
    {
        var image = new MmServe.Media.Images.RgbImage(2, 1, new byte[6]);
        Assert.Throws<ArgumentOutOfRangeException>(() => PilResize.Resize(image, 0, 1, PilResampling.Bilinear));
        Assert.Throws<ArgumentOutOfRangeException>(() => PilResize.Resize(image, 1, 1, (PilResampling)9));
        Assert.Throws<ArgumentException>(() => PilResize.Resize(new byte[5], 2, 1, new byte[3], 1, 1, PilResampling.Box));
    }
}
