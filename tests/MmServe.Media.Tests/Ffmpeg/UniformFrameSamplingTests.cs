using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

public sealed class UniformFrameSamplingTests
{
    [Theory]
    [InlineData(24, 8, new[] { 1, 4, 7, 10, 13, 16, 19, 22 })]
    [InlineData(24, 5, new[] { 2, 7, 12, 16, 21 })]
    [InlineData(8, 8, new[] { 0, 1, 2, 3, 4, 5, 6, 7 })]
    [InlineData(3, 8, new[] { 0, 0, 0, 1, 1, 2, 2, 2 })]
    [InlineData(24, 1, new[] { 12 })]
    [InlineData(1, 3, new[] { 0, 0, 0 })]
    public void Takes_the_centre_of_each_equal_slice(int decoded, int wanted, int[] expected)
    {
        Assert.Equal(expected, UniformFrameSampling.Indices(decoded, wanted));
    }

    [Fact]
    public void Integer_arithmetic_equals_the_reference_floating_point_formula()
    {
        for (int decoded = 1; decoded <= 400; decoded++)
        {
            for (int wanted = 1; wanted <= 32; wanted++)
            {
                var reference = Enumerable.Range(0, wanted).Select(i => (int)Math.Floor((i + 0.5) * decoded / wanted));
                Assert.Equal(reference, UniformFrameSampling.Indices(decoded, wanted));
            }
        }
    }
}
