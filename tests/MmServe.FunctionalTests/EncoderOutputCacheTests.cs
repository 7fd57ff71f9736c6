using MmServe.Serving.Media;

namespace MmServe.FunctionalTests;

/// <summary>The encoder-output cache: least recently used first out, never over its byte budget.</summary>
public sealed class EncoderOutputCacheTests
{
    private static float[] Floats(int n, float value) => Enumerable.Repeat(value, n).ToArray();

    [Fact]
    public void StaysWithinItsByteBudget_EvictingTheLeastRecentlyUsed()
    {
        var cache = new EncoderOutputCache(maxBytes: 3 * ((1000 * 4) + 100));
        cache.Add("a", Floats(1000, 1));
        cache.Add("b", Floats(1000, 2));
        cache.Add("c", Floats(1000, 3));
        Assert.True(cache.TryGet("a", out _)); // a is now the most recently used

        cache.Add("d", Floats(1000, 4));

        Assert.False(cache.TryGet("b", out _)); // b was the least recently used
        Assert.True(cache.TryGet("a", out var a));
        Assert.Equal(1, a[0]);
        Assert.True(cache.TryGet("c", out _));
        Assert.True(cache.TryGet("d", out _));
        Assert.True(cache.Bytes <= 3 * ((1000 * 4) + 100), $"{cache.Bytes} bytes");
        Assert.Equal(3, cache.Count);
    }

    [Fact]
    public void ManyEntries_NeverExceedTheBudget()
    {
        const long budget = 64 * 1024;
        var cache = new EncoderOutputCache(budget);
        for (int i = 0; i < 500; i++)
        {
            cache.Add($"key-{i}", Floats(100 + (i % 37 * 13), i));
            Assert.True(cache.Bytes <= budget, $"after {i}: {cache.Bytes} bytes");
        }

        Assert.True(cache.TryGet("key-499", out _));
        Assert.False(cache.TryGet("key-0", out _));
    }

    [Fact]
    public void AnEntryLargerThanTheBudget_IsNotKept_AndZeroTurnsTheCacheOff()
    {
        var small = new EncoderOutputCache(maxBytes: 1000);
        small.Add("big", Floats(1000, 1));
        Assert.False(small.TryGet("big", out _));

        var off = new EncoderOutputCache(maxBytes: 0);
        off.Add("x", Floats(1, 1));
        Assert.False(off.TryGet("x", out _));
        Assert.Equal(0, off.Bytes);
    }

    [Fact]
    public void HitsAndMissesAreCounted()
    {
        var cache = new EncoderOutputCache(maxBytes: 1 << 20);
        cache.Add("a", Floats(10, 1));
        _ = cache.TryGet("a", out _);
        _ = cache.TryGet("a", out _);
        _ = cache.TryGet("nope", out _);
        Assert.Equal(2, cache.Hits);
        Assert.Equal(1, cache.Misses);
    }
}
