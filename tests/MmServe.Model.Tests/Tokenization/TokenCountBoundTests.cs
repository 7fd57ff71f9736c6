using System.Text;
using MmServe.Model.Tokenization;

namespace MmServe.Model.Tests.Tokenization;

/// <summary>
/// The length-only lower bound the server refuses over-long text with must never exceed what the tokenizer really
/// produces (else a text that fits would be refused), and must be tight enough to matter.
/// </summary>
public sealed class TokenCountBoundTests
{
    [Theory]
    [MemberData(nameof(HfParityTests.Fixtures), MemberType = typeof(HfParityTests))]
    public void Minimum_tokens_never_exceeds_the_real_count(string fixture)
    {
        var tokenizer = ByteLevelBpeTokenizer.Load(HfParityTests.FixturePath(fixture));
        int checkedStrings = 0;
        foreach (var text in FuzzStrings.Generate(seed: 4242 + fixture.Length, int.MaxValue).Take(2000))
        {
            long bound = tokenizer.MinimumTokens(text);
            int real = tokenizer.Encode([TextSegment.Untrusted(text)]).Length;
            Assert.True(bound <= real, $"{fixture}: bound {bound} > {real} tokens for {Escape(text)}");
            checkedStrings++;
        }

        Assert.Equal(2000, checkedStrings);
    }

    [Fact]
    public void Mmserve_tiny_guarantees_a_bound_from_its_longest_vocab_entry()
    {
        var tokenizer = ByteLevelBpeTokenizer.Load(HfParityTests.FixturePath("mmserve-tiny"));
        var text = new string('x', 10_000);

        Assert.NotNull(tokenizer.MaxUnitsPerToken);
        long bound = tokenizer.MinimumTokens(text);
        Assert.Equal(((10_000 + tokenizer.MaxUnitsPerToken!.Value - 1) / tokenizer.MaxUnitsPerToken.Value) - 1, bound);
        Assert.InRange(bound, 1, tokenizer.Encode([TextSegment.Untrusted(text)]).Length);
    }

    private static string Escape(string s) => string.Concat(s.Select(c => c < 128 && !char.IsControl(c) ? c.ToString() : $"\\u{(int)c:x4}"));
}
