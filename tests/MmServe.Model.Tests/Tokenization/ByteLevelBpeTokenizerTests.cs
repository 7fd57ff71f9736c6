using System.Text;
using MmServe.Model.Tokenization;
using static MmServe.Model.Tests.Tokenization.TestTokenizerJson;

namespace MmServe.Model.Tests.Tokenization;

// Expected ids are worked out by hand from TestTokenizerJson's merges: single bytes have id == byte value,
// merge number r produces id 256 + r, and the lowest-ranked applicable pair is merged first.
public sealed class ByteLevelBpeTokenizerTests
{
    private static readonly ByteLevelBpeTokenizer Gpt2 = Gpt2Style();
    private static readonly ByteLevelBpeTokenizer Llama3 = Llama3Style();

    [Theory]
    // "hello": h e l l o -> he l l o -> he ll o ("l l" outranks "l o") -> hell o -> hello
    [InlineData("hello", new[] { 261 })]
    // " world" is one regex piece: Ġ w o r l d -> Ġw o r l d -> Ġw or l d -> Ġwor l d -> Ġwor ld -> Ġworld
    [InlineData("hello world", new[] { 261, 271 })]
    [InlineData(" the", new[] { 258 })]
    [InlineData("the", new[] { 116, 257 })]
    // "l o" applies when no better-ranked pair competes
    [InlineData("lol", new[] { 262, 108 })]
    [InlineData("hello, world!", new[] { 261, 44, 271, 33 })]
    // GPT-2's \s+(?!\S) leaves the last whitespace char to the next word: "a", "\n", "\n", "b"
    [InlineData("a\n\nb", new[] { 97, 10, 10, 98 })]
    // ...but takes all of trailing whitespace, where "Ċ Ċ" merges
    [InlineData("a\n\n", new[] { 97, 264 })]
    [InlineData("a  b", new[] { 97, 32, 32, 98 })]
    // "   " -> ĠĠ Ġ (leftmost "Ġ Ġ" first, and "ĠĠ Ġ" is no merge)
    [InlineData("a   ", new[] { 97, 265, 32 })]
    [InlineData("it's", new[] { 105, 116, 39, 115 })]
    // GPT-2 keeps digit runs whole: 0 0 1 2 0 -> 0 0 12 0
    [InlineData("00120", new[] { 48, 48, 263, 48 })]
    // é is UTF-8 C3 A9, byte-level "Ã©", merged by "Ã ©"
    [InlineData("café", new[] { 99, 97, 102, 266 })]
    // U+1F600 is F0 9F 98 80: four byte tokens after the space
    [InlineData("hi 😀", new[] { 104, 105, 32, 240, 159, 152, 128 })]
    [InlineData("xyz", new[] { 120, 121, 122 })]
    [InlineData("", new int[0])]
    public void Encodes_gpt2_style_exactly(string text, int[] expected) => Assert.Equal(expected, Gpt2.Encode(text));

    [Fact]
    public void Special_token_in_the_middle_of_text_is_one_token()
    {
        Assert.Equal([261, ImEnd, 258], Gpt2.Encode("hello<|im_end|> the"));
        Assert.Equal([ImStart, 261, EndOfText], Gpt2.Encode("<|im_start|>hello<|endoftext|>"));
    }

    [Fact]
    public void Special_token_in_untrusted_text_stays_plain_bytes()
    {
        int[] plain = [60, 124, 105, 109, 95, 101, 110, 100, 124, 62]; // < | i m _ e n d | >
        Assert.Equal(plain, Gpt2.Encode([TextSegment.Untrusted("<|im_end|>")]));
        Assert.Equal([ImEnd], Gpt2.Encode([TextSegment.Trusted("<|im_end|>")]));
    }

    [Fact]
    public void Segments_encode_like_the_concatenated_string()
    {
        // "\n\n" spans two segments and still merges into one token, as it would in one string.
        Assert.Equal(Gpt2.Encode("hello world\n\n"),
            Gpt2.Encode([TextSegment.Trusted("hello wor"), TextSegment.Untrusted("ld\n"), TextSegment.Trusted("\n")]));
    }

    [Fact]
    public void Merges_given_as_arrays_tokenize_the_same()
    {
        var arrays = Gpt2Style(mergesAsArrays: true);
        foreach (var text in new[] { "hello world", " the", "café 00120", "a\n\n" })
        {
            Assert.Equal(Gpt2.Encode(text), arrays.Encode(text));
        }
    }

    [Theory]
    [InlineData("hello world", new[] { 261, 271 })]
    // \p{N}{1,3}: "001" and "20", so "12" cannot merge across the boundary
    [InlineData("00120", new[] { 48, 48, 49, 50, 48 })]
    // \s*[\r\n]+ keeps "\n\n" together before a word, unlike GPT-2
    [InlineData("a\n\nb", new[] { 97, 264, 98 })]
    [InlineData("hello<|im_end|> the", new[] { 261, ImEnd, 258 })]
    [InlineData("hi 😀", new[] { 104, 105, 32, 240, 159, 152, 128 })]
    public void Encodes_split_plus_bytelevel_sequence_exactly(string text, int[] expected) =>
        Assert.Equal(expected, Llama3.Encode(text));

    [Fact]
    public void Ignore_merges_uses_a_whole_word_token_directly()
    {
        Assert.Equal([Xyz], Llama3Style(ignoreMerges: true).Encode("xyz"));
        Assert.Equal([120, 121, 122], Llama3Style(ignoreMerges: false).Encode("xyz"));
    }

    [Fact]
    public void Add_prefix_space_prefixes_every_piece_between_added_tokens()
    {
        var prefixed = Gpt2Style(addPrefixSpace: true);
        // " hello": Ġ h e l l o -> ... -> Ġ hello (no "Ġ hello" merge)
        Assert.Equal([32, 261], prefixed.Encode("hello"));
        Assert.Equal([258], prefixed.Encode(" the"));
        Assert.Equal([ImStart, 32, 261], prefixed.Encode("<|im_start|>hello"));
    }

    [Fact]
    public void Nfc_normalizer_composes_before_tokenizing()
    {
        var nfc = ByteLevelBpeTokenizer.Parse(Build(
            w =>
            {
                w.WriteString("type", "ByteLevel");
                w.WriteBoolean("add_prefix_space", false);
                w.WriteBoolean("use_regex", true);
            },
            mergesAsArrays: false,
            ignoreMerges: false,
            writeNormalizer: w => w.WriteString("type", "NFC")));
        const string decomposed = "e\u0301"; // e + COMBINING ACUTE ACCENT (CC 81)
        Assert.Equal([266], nfc.Encode(decomposed));
        Assert.Equal([101, 204, 129], Gpt2.Encode(decomposed));
    }

    [Fact]
    public void Long_words_merge_quickly_and_leftmost_first()
    {
        var ids = Gpt2.Encode(new string('l', 100_001));
        Assert.Equal(50_001, ids.Length);
        Assert.All(ids[..^1], id => Assert.Equal(259, id));
        Assert.Equal(108, ids[^1]);
    }

    [Fact]
    public void Decode_restores_text_and_can_skip_special_tokens()
    {
        int[] ids = [261, ImEnd, 258, 32, 240, 159, 152, 128];
        Assert.Equal("hello<|im_end|> the 😀", Gpt2.Decode(ids, skipSpecial: false));
        Assert.Equal("hello the 😀", Gpt2.Decode(ids, skipSpecial: true));
    }

    [Fact]
    public void Decode_replaces_broken_utf8_and_skips_unknown_ids()
    {
        Assert.Equal("a\uFFFDb", Gpt2.Decode([97, 240, 159, 98], skipSpecial: false));
        Assert.Equal("ab", Gpt2.Decode([97, 99_999, -1, 98], skipSpecial: false));
    }

    [Fact]
    public void Vocabulary_lookups()
    {
        Assert.Equal(VocabSize, Gpt2.VocabSize);
        Assert.Equal(258, Gpt2.TokenToId("Ġthe"));
        Assert.Equal(ImEnd, Gpt2.TokenToId("<|im_end|>"));
        Assert.Null(Gpt2.TokenToId("nope"));
        Assert.Equal("Ġthe", Gpt2.IdToToken(258));
        Assert.Equal("<|im_end|>", Gpt2.IdToToken(ImEnd));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gpt2.IdToToken(VocabSize));
        Assert.True(Gpt2.IsSpecial(ImEnd));
        Assert.False(Gpt2.IsSpecial(258));
        Assert.False(Gpt2.IsSpecial(-5));
        Assert.Equal(" the"u8.ToArray(), Gpt2.TokenBytes(258));
        Assert.Equal(new byte[] { 0xC3, 0xA9 }, Gpt2.TokenBytes(266));
        Assert.Equal("<|im_end|>"u8.ToArray(), Gpt2.TokenBytes(ImEnd));
        Assert.Empty(Gpt2.TokenBytes(VocabSize + 10));
    }

    [Theory]
    [InlineData("Hello, World! It's 2024.\n\n  Tabs\tand  spaces   ")]
    [InlineData("naïve café — “quotes” ß 中文 日本語 한국어 Ελληνικά")]
    [InlineData("emoji 😀👍🏽👨‍👩‍👧 flags 🇫🇷 math 𝒜𝟏𝟐")]
    [InlineData("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")]
    [InlineData("\r\n\r\n\u00A0\u2028 trailing\n")]
    public void Round_trips(string text)
    {
        Assert.Equal(text, Gpt2.Decode(Gpt2.Encode(text), skipSpecial: false));
        Assert.Equal(text, Llama3.Decode(Llama3.Encode(text), skipSpecial: false));
    }

    [Fact]
    public void Round_trips_random_unicode()
    {
        var random = new Random(12345);
        string[] pieces = [" ", "  ", "\n", "\t", "\r\n", "'s", "12", "hello", "the", "é", "e\u0301", "中", "😀", "🏽",
            "\u200D", "<|im_end|>", "<|im_start|>", "<|", "|>", "_", ".", "ll", "lo"];
        for (var n = 0; n < 500; n++)
        {
            var text = new StringBuilder();
            var length = random.Next(0, 20);
            for (var i = 0; i < length; i++)
            {
                if (random.Next(3) == 0)
                {
                    text.Append(pieces[random.Next(pieces.Length)]);
                }
                else
                {
                    text.Append(char.ConvertFromUtf32(RandomScalar(random)));
                }
            }

            var s = text.ToString();
            Assert.Equal(s, Gpt2.Decode(Gpt2.Encode(s), skipSpecial: false));
            Assert.Equal(s, Llama3.Decode(Llama3.Encode(s), skipSpecial: false));
        }
    }

    [Fact]
    public void Lone_surrogates_become_replacement_characters()
    {
        Assert.Equal("a\uFFFDb", Gpt2.Decode(Gpt2.Encode("a\uD800b"), skipSpecial: false));
    }

    /// <summary>A random Unicode scalar value, biased towards ASCII but covering the BMP and astral planes.</summary>
    internal static int RandomScalar(Random random)
    {
        return random.Next(4) switch
        {
            0 => random.Next(0x20, 0x7F),
            1 => random.Next(0, 0x20),
            2 => Bmp(random),
            _ => random.Next(0x10000, 0x110000),
        };

        static int Bmp(Random random)
        {
            while (true)
            {
                var c = random.Next(0x80, 0x10000);
                if (c is < 0xD800 or > 0xDFFF)
                {
                    return c;
                }
            }
        }
    }
}
