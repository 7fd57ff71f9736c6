using MmServe.Media.Images.HuggingFace;

namespace MmServe.Media.Tests.Images.HuggingFace;

/// <summary>
/// <see cref="TorchBicubic"/> against torch 1.13's interpolate(mode="bicubic", align_corners=False) on random planes,
/// down- and up-scaling (golden bicubic.npz): every float bit-identical.
/// </summary>
public sealed class TorchBicubicTests
{
    public static TheoryData<string> CaseIds => HfGolden.Ids("bicubic");

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Matches_torch_bit_for_bit(string id)
    {
        var c = HfGolden.Case("bicubic", id);
        int height = c.GetProperty("height").GetInt32(), width = c.GetProperty("width").GetInt32();
        int outputHeight = c.GetProperty("output_height").GetInt32(), outputWidth = c.GetProperty("output_width").GetInt32();
        var input = HfGolden.Array("bicubic", id + "__in").AsFloat32();
        var expected = HfGolden.Array("bicubic", id).AsFloat32();

        var actual = new float[outputHeight * outputWidth];
        TorchBicubic.Resize(input, height, width, actual, outputHeight, outputWidth);

        int differing = actual.Where((v, i) => BitConverter.SingleToInt32Bits(v) != BitConverter.SingleToInt32Bits(expected[i])).Count();
        Assert.True(differing == 0, $"{id}: {differing} of {actual.Length} differ, max |diff| {HfGolden.MaxAbsDiff(actual, expected)}");
    }

    [Fact]
    public void Same_size_is_the_identity()
    {
        float[] plane = [1.5f, -2f, 3.25f, 0.1f, 7f, -0.3f];
        var output = new float[6];
        TorchBicubic.Resize(plane, 2, 3, output, 2, 3);
        Assert.Equal(plane, output);
    }
}
