using MmServe.Media.Images;

namespace MmServe.Media.Tests.Images;

/// <summary>Weights worked out by hand from the spec formula (docs/model-bundle.draft.md).</summary>
public sealed class AntialiasResizeWeightsTests
{
    private const float Tolerance = 1e-7f;

    [Fact]
    public void Downscale_4_to_2_uses_three_taps_of_the_widened_triangle()
    {
        // scale = 2, support = 2, invscale = 1/2.
        // i = 0: center 1, xmin = (int)(-0.5) = 0, xmax = 3;
        //   raw = 1 - |(j - 0.5) / 2| for j = 0, 1, 2 -> 0.75, 0.75, 0.25; sum 1.75 -> 3/7, 3/7, 1/7.
        // i = 1: center 3, xmin = (int)1.5 = 1, xmax = min(5, 4) = 4;
        //   raw for inputs 1, 2, 3 -> 0.25, 0.75, 0.75 -> 1/7, 3/7, 3/7.
        var weights = AntialiasResizeWeights.Compute(4, 2);

        Assert.Equal(0, weights.Start(0));
        AssertTaps([3f / 7, 3f / 7, 1f / 7], weights.Taps(0));
        Assert.Equal(1, weights.Start(1));
        AssertTaps([1f / 7, 3f / 7, 3f / 7], weights.Taps(1));
    }

    [Fact]
    public void Upscale_2_to_3_is_plain_bilinear()
    {
        // scale = 2/3 < 1, so support = 1 and invscale = 1.
        // i = 0: center 1/3, xmin = (int)(-1/6) = 0, xmax = (int)(11/6) = 1 -> one tap, weight 1.
        // i = 1: center 1,   xmin = (int)0.5 = 0,    xmax = (int)2.5 = 2 -> raw 0.5, 0.5.
        // i = 2: center 5/3, xmin = (int)(7/6) = 1,  xmax = min((int)(19/6), 2) = 2 -> one tap, weight 1.
        var weights = AntialiasResizeWeights.Compute(2, 3);

        Assert.Equal(0, weights.Start(0));
        AssertTaps([1f], weights.Taps(0));
        Assert.Equal(0, weights.Start(1));
        AssertTaps([0.5f, 0.5f], weights.Taps(1));
        Assert.Equal(1, weights.Start(2));
        AssertTaps([1f], weights.Taps(2));
    }

    [Theory]
    [InlineData(7, 3)]
    [InlineData(100, 64)]
    [InlineData(64, 100)]
    [InlineData(8192, 1)]
    public void Taps_stay_inside_the_input_and_sum_to_one(int input, int output)
    {
        var weights = AntialiasResizeWeights.Compute(input, output);

        for (int i = 0; i < output; i++)
        {
            var taps = weights.Taps(i);
            Assert.InRange(weights.Start(i), 0, input - 1);
            Assert.InRange(weights.Start(i) + taps.Length, 1, input);
            Assert.Equal(1.0, taps.ToArray().Sum(w => (double)w), 5);
        }
    }

    [Fact]
    public void Cache_is_bounded_and_returns_the_same_table_for_a_cached_size()
    {
        var cache = new ResizeWeightsCache(capacity: 2);

        var first = cache.Get(10, 4);
        cache.Get(11, 4);
        cache.Get(12, 4);

        Assert.Same(first, cache.Get(10, 4));
        Assert.Equal(2, cache.Count);
    }

    private static void AssertTaps(float[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int j = 0; j < expected.Length; j++)
        {
            Assert.Equal(expected[j], actual[j], Tolerance);
        }
    }
}
