using MmServe.Model.Tokenization;

namespace MmServe.Model.Tests.Tokenization;

public sealed class TokenizerJsonErrorTests
{
    [Fact]
    public void Non_bpe_models_are_rejected()
    {
        var json = TestTokenizerJson.Gpt2StyleJson().Replace("\"type\": \"BPE\"", "\"type\": \"WordPiece\"");
        var e = Assert.Throws<NotSupportedException>(() => ByteLevelBpeTokenizer.Parse(json, "x/tokenizer.json"));
        Assert.Contains("x/tokenizer.json: model.type 'WordPiece'", e.Message);
    }

    [Fact]
    public void Unknown_pre_tokenizers_are_rejected()
    {
        var json = TestTokenizerJson.Build(w => w.WriteString("type", "BertPreTokenizer"), false, false);
        var e = Assert.Throws<NotSupportedException>(() => ByteLevelBpeTokenizer.Parse(json));
        Assert.Contains("pre_tokenizer.type 'BertPreTokenizer'", e.Message);
    }

    [Fact]
    public void Merges_must_refer_to_vocabulary_tokens()
    {
        var json = TestTokenizerJson.Gpt2StyleJson().Replace("\"Ġ t\"", "\"Ġ zz\"");
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.Parse(json));
        Assert.Contains("model.merges[0] 'zz' is not in model.vocab", e.Message);
    }

    [Fact]
    public void Invalid_json_names_the_source()
    {
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.Parse("{ nope", "bad.json"));
        Assert.StartsWith("bad.json: invalid JSON", e.Message);
    }
}
