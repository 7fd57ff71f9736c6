using System.Text;
using MmServe.Model.Tokenization;
using static MmServe.Model.Tests.Tokenization.TestTokenizerJson;

namespace MmServe.Model.Tests.Tokenization;

public sealed class StreamingDetokenizerTests
{
    private static readonly ByteLevelBpeTokenizer Tokenizer = Gpt2Style();

    [Fact]
    public void Holds_a_split_emoji_until_its_last_byte()
    {
        var stream = new StreamingDetokenizer(Tokenizer);
        // "hi 😀!" = h i Ġ F0 9F 98 80 !
        string[] deltas = [.. new[] { 104, 105, 32, 240, 159, 152, 128, 33 }.Select(stream.Push)];
        Assert.Equal(["h", "i", " ", "", "", "", "😀", "!"], deltas);
        Assert.Equal("", stream.Flush());
    }

    [Fact]
    public void Skips_special_tokens_by_default_and_keeps_them_on_request()
    {
        var skipping = new StreamingDetokenizer(Tokenizer);
        Assert.Equal("", skipping.Push(ImEnd));
        var keeping = new StreamingDetokenizer(Tokenizer, skipSpecial: false);
        Assert.Equal("<|im_end|>", keeping.Push(ImEnd));
    }

    [Fact]
    public void Flush_replaces_an_unfinished_character()
    {
        var stream = new StreamingDetokenizer(Tokenizer);
        Assert.Equal("a", stream.Push(97));
        Assert.Equal("", stream.Push(240));
        Assert.Equal("", stream.Push(159));
        Assert.Equal("\uFFFD", stream.Flush());
    }

    [Fact]
    public void Invalid_bytes_do_not_block_later_text()
    {
        var stream = new StreamingDetokenizer(Tokenizer);
        Assert.Equal("", stream.Push(240));
        Assert.Equal("\uFFFDa", stream.Push(97));
    }

    [Fact]
    public void Deltas_concatenate_to_the_full_decode()
    {
        var random = new Random(7);
        for (var n = 0; n < 200; n++)
        {
            var text = new StringBuilder();
            for (var i = random.Next(0, 15); i > 0; i--)
            {
                text.Append(char.ConvertFromUtf32(ByteLevelBpeTokenizerTests.RandomScalar(random)));
            }

            var ids = Tokenizer.Encode(text + "<|im_end|>");
            // Drop a random tail byte token to leave a broken character sometimes.
            if (ids.Length > 2 && random.Next(2) == 0)
            {
                ids = [.. ids[..^2], ids[^1]];
            }

            var stream = new StreamingDetokenizer(Tokenizer);
            var streamed = string.Concat(ids.Select(stream.Push)) + stream.Flush();
            Assert.Equal(Tokenizer.Decode(ids, skipSpecial: true), streamed);
        }
    }

    [Fact]
    public void Token_text_decoder_knows_eos()
    {
        var decoder = new TokenTextDecoder(Tokenizer, [ImEnd, EndOfText]);
        Assert.True(decoder.IsEos(ImEnd));
        Assert.False(decoder.IsEos(97));
        var stream = decoder.CreateIncrementalDecoder();
        Assert.Equal("h", stream.Push(104));
    }
}
