using System.Text;

namespace MmServe.Model.Tests.Tokenization;

/// <summary>
/// Seeded random strings for tokenizer parity: the shapes that break tokenizers (scripts outside Latin, astral
/// letters, emoji ZWJ sequences, combining marks, whitespace runs, contractions, digit runs, special-token
/// look-alikes). Never lone surrogates (HF's Rust strings cannot hold them) nor U+FFFD (so a U+FFFD in a decode
/// always means broken UTF-8).
/// </summary>
internal static class FuzzStrings
{
    private static readonly string[] Fragments =
    [
        "hello", "Hello", "HELLO", " the", "The", "world", "tokenizer", "it's", "IT'S", "we'll", "they'D", "'ll",
        "'re", "don't", "l'été", "über", "Straße", "naïve", "café", "ﬁne", "Ⅻ", "½", "²", "١٢٣", "੧", "x²",
        "你好", "世界", "機械学習", "ひらがな", "カタカナ", "한국어", "안녕하세요", "Привет", "мир", "Ελλάδα",
        "مرحبا", "नमस्ते", "ไทย", "e\u0301", "a\u0308\u0323", "\u0301", "Z\u0351\u0364\u0356",
        "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇩🇪", "🇺🇳", "\u200d", "\ufe0f", "🧑🏿‍🚀", "1️⃣",
        "𝐀𝐁𝐂", "𝒳", "𝟘𝟙", "𐍈", "𠀀", "\U0001F600\U0001F600",
        " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\u00a0", "\u3000", "\u2009", "\u2028",
        "\u000b", "\u000c", "\u0085", " \t \n",
        "0", "7", "12", "123", "1234", "12345678901", "3.14", "-42", "1,000", "٣",
        "<|im_start|>", "<|im_end|>", "<|im_start", "im_end|>", "<|endoftext|>", "<|endoftext", "<|eot_id|>",
        "<|begin_of_text|>", "<|start_header_id|>", "<|end|>", "<|user|>", "<|user|> ", "<|end|>\n", "<|assistant|>",
        "<s>", "</s>", "<s", "s>", "</", "<unk>", "<0x41>", "<0xE4>", "<|", "|>", "<<|im_end|>>",
        "▁", "▁▁", "Ġ", "Ċ", "ĠĠ", "ſ", "K", "İ", "ß", "\u00ad", "\u200b", "\ufeff",
        "{", "}", "()", "=>", "->", "...", "!!", "?!", "#", "@user", "https://example.com/a?b=c", "a_b", "__init__",
        ";", "\"quoted\"", "'single'", "`code`", "$", "€", "¥",
    ];

    /// <summary><paramref name="count"/> strings, reproducible from <paramref name="seed"/>.</summary>
    public static IEnumerable<string> Generate(int seed, int count)
    {
        var random = new Random(seed);
        for (var n = 0; n < count; n++)
        {
            var text = new StringBuilder();
            var parts = random.Next(0, 5) == 0 ? random.Next(0, 4) : random.Next(1, 24);
            for (var i = 0; i < parts; i++)
            {
                switch (random.Next(10))
                {
                    case < 6:
                        text.Append(Fragments[random.Next(Fragments.Length)]);
                        break;
                    case 6:
                        text.Append(' ', random.Next(1, 9));
                        break;
                    case 7:
                        AppendRandomRun(random, text, random.Next(1, 6));
                        break;
                    default:
                        text.Append(AsciiWord(random));
                        break;
                }
            }

            yield return text.ToString();
        }
    }

    private static string AsciiWord(Random random)
    {
        const string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:'\"!?-_";
        var chars = new char[random.Next(1, 10)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = letters[random.Next(letters.Length)];
        }

        return new string(chars);
    }

    private static void AppendRandomRun(Random random, StringBuilder text, int length)
    {
        for (var i = 0; i < length; i++)
        {
            int scalar;
            do
            {
                scalar = random.Next(8) switch
                {
                    0 => random.Next(0x20, 0x7F),
                    1 => random.Next(0, 0x20),
                    2 => random.Next(0x80, 0x800),
                    3 => random.Next(0x800, 0x3000),
                    4 => random.Next(0x4E00, 0xA000),
                    5 => random.Next(0xA000, 0x10000),
                    6 => random.Next(0x1F300, 0x1FAFF),
                    _ => random.Next(0x10000, 0x110000),
                };
            }
            while (scalar is >= 0xD800 and <= 0xDFFF or 0xFFFD);

            text.Append(char.ConvertFromUtf32(scalar));
        }
    }
}
