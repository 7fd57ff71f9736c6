using MmServe.Runtime.Onnx.EncoderDecoder;

namespace MmServe.Runtime.Onnx.Tests.EncoderDecoder;

/// <summary>
/// no_repeat_ngram_size in <see cref="Seq2SeqLogitRules"/>: the tokens it bans equal a direct enumeration of every
/// n-gram of the decoder ids, on random id sequences with many repeats, for n = 1..4; nothing is banned while the ids
/// are shorter than n - 1, or when the setting is 0.
/// </summary>
public sealed class NoRepeatNgramTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void BannedTokens_EqualEveryNgramContinuingTheLastNMinusOneIds(int n)
    {
        var random = new Random(n);
        var rules = Seq2SeqLogitRules.None with { NoRepeatNgramSize = n };
        for (int trial = 0; trial < 200; trial++)
        {
            var ids = Enumerable.Range(0, random.Next(0, 24)).Select(_ => random.Next(0, 6)).ToList();
            var logits = new float[8];
            rules.Apply(logits, firstGenerated: false, ids);
            var banned = Enumerable.Range(0, logits.Length).Where(t => float.IsNegativeInfinity(logits[t])).ToHashSet();
            Assert.True(Expected(ids, n).SetEquals(banned), $"n={n} ids=[{string.Join(",", ids)}]: banned [{string.Join(",", banned.Order())}], expected [{string.Join(",", Expected(ids, n).Order())}]");
        }
    }

    [Fact]
    public void ARepeatedTrigram_IsBannedAtItsThirdToken()
    {
        var logits = new float[10];
        (Seq2SeqLogitRules.None with { NoRepeatNgramSize = 3 }).Apply(logits, false, [1, 2, 3, 4, 1, 2]);
        Assert.Equal([3], Enumerable.Range(0, 10).Where(t => float.IsNegativeInfinity(logits[t])));
    }

    [Fact]
    public void ZeroBansNothing()
    {
        var logits = new float[4];
        Seq2SeqLogitRules.None.Apply(logits, false, [1, 1, 1, 1]);
        Assert.DoesNotContain(logits, float.IsNegativeInfinity);
    }

    /// <summary>Every n-gram of <paramref name="ids"/> whose first n-1 ids are the last n-1 ids: its last id.</summary>
    private static HashSet<int> Expected(List<int> ids, int n)
    {
        var result = new HashSet<int>();
        if (ids.Count < n - 1)
        {
            return result;
        }

        var suffix = ids.Skip(ids.Count - (n - 1)).ToList();
        for (int i = 0; i + n <= ids.Count; i++)
        {
            if (ids.Skip(i).Take(n - 1).SequenceEqual(suffix))
            {
                result.Add(ids[i + n - 1]);
            }
        }

        return result;
    }
}
