using System.Text.RegularExpressions;
using MmServe.Model.Tokenization;

namespace MmServe.Model.Tests.Tokenization;

public sealed class ByteLevelInternalsTests
{
    [Fact]
    public void Byte_alphabet_matches_gpt2_bytes_to_unicode()
    {
        Assert.Equal('\u0100', ByteLevelAlphabet.ByteToChar(0));
        Assert.Equal('\u010A', ByteLevelAlphabet.ByteToChar((byte)'\n')); // Ċ
        Assert.Equal('\u0120', ByteLevelAlphabet.ByteToChar((byte)' '));  // Ġ
        Assert.Equal('\u0121', ByteLevelAlphabet.ByteToChar(127));
        Assert.Equal('\u0143', ByteLevelAlphabet.ByteToChar(173));        // soft hyphen, the last non-printable
        Assert.Equal('A', ByteLevelAlphabet.ByteToChar((byte)'A'));
        for (var b = 0; b < 256; b++)
        {
            var c = ByteLevelAlphabet.ByteToChar((byte)b);
            Assert.Equal(TestTokenizerJson.ByteChar(b), c.ToString());
            Assert.True(ByteLevelAlphabet.TryCharToByte(c, out var back));
            Assert.Equal(b, back);
        }
    }

    [Theory]
    // Behaviour names as in tokenizer.json (the enum is internal, test methods are public).
    [InlineData("Removed", false, new[] { "a", "b", "c" })]
    [InlineData("Isolated", false, new[] { "a", "-", "b", "-", "-", "c" })]
    [InlineData("MergedWithPrevious", false, new[] { "a-", "b-", "-", "c" })]
    [InlineData("MergedWithNext", false, new[] { "a", "-b", "-", "-c" })]
    [InlineData("Contiguous", false, new[] { "a", "-", "b", "--", "c" })]
    [InlineData("Removed", true, new[] { "-", "-", "-" })]
    public void Split_behaviors_follow_hf(string behavior, bool invert, string[] expected) =>
        Assert.Equal(expected,
            RegexSplitter.Split("a-b--c", new Regex("-"), Enum.Parse<SplitBehavior>(behavior), invert));

    [Fact]
    public void Regex_classes_see_astral_characters_as_code_points()
    {
        var gpt2 = new Regex(ByteLevelPreTokenizer.Gpt2Pattern);
        // U+1D49C is a letter (Lu): it belongs to the same \p{L}+ word as its neighbours.
        Assert.Equal(["a𝒜b", " c"], RegexSplitter.Split("a𝒜b c", gpt2, SplitBehavior.Isolated, false));
        // Mathematical digits (Nd) count one each in \p{N}{1,3}.
        var llama = new Regex(TestTokenizerJson.Llama3Pattern);
        Assert.Equal(["𝟏𝟐𝟑", "𝟒"], RegexSplitter.Split("𝟏𝟐𝟑𝟒", llama, SplitBehavior.Isolated, false));
        // Emoji stay symbols.
        Assert.Equal(["hi", " 😀😀"], RegexSplitter.Split("hi 😀😀", gpt2, SplitBehavior.Isolated, false));
    }

    [Fact]
    public void Added_token_options_lstrip_rstrip_single_word()
    {
        var matcher = new AddedTokenMatcher(
        [
            new AddedToken(1, "<mask>", Special: true, LStrip: true, RStrip: true),
            new AddedToken(2, "ony", Special: false, SingleWord: true),
            new AddedToken(3, "<m", Special: false),
        ]);

        var masks = matcher.FindAll("a  <mask>  b", matchSpecial: true);
        Assert.Equal([new AddedTokenMatch(masks[0].Token, 1, 11)], masks);
        Assert.Empty(matcher.FindAll("anthony", matchSpecial: true));
        Assert.Equal(2, Assert.Single(matcher.FindAll("an ony.", matchSpecial: true)).Token.Id);
        // With special matching off the shorter non-special "<m" is found instead.
        Assert.Equal(3, Assert.Single(matcher.FindAll("<mask>", matchSpecial: false)).Token.Id);
    }
}
