using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MmServe.Model.Tokenization;

namespace MmServe.Model.Tests.Tokenization;

/// <summary>
/// A tiny tokenizer.json: ids 0..255 are the single bytes (id == byte value, so expected ids can be read off the
/// UTF-8), 256..271 come from the merges below (id == 256 + rank), 272 is "xyz", then special tokens 273..283.
/// </summary>
internal static class TestTokenizerJson
{
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static readonly (string Left, string Right)[] Merges =
    [
        ("Ġ", "t"),     // 256 "Ġt"
        ("h", "e"),     // 257 "he"
        ("Ġt", "he"),   // 258 "Ġthe"
        ("l", "l"),     // 259 "ll"
        ("he", "ll"),   // 260 "hell"
        ("hell", "o"),  // 261 "hello"
        ("l", "o"),     // 262 "lo"   (ranked after "l l": "hello" must not use it)
        ("1", "2"),     // 263 "12"
        ("Ċ", "Ċ"),     // 264 "\n\n"
        ("Ġ", "Ġ"),     // 265 "  "
        ("Ã", "©"),     // 266 "é" (UTF-8 C3 A9)
        ("Ġ", "w"),     // 267 "Ġw"
        ("o", "r"),     // 268 "or"
        ("Ġw", "or"),   // 269 "Ġwor"
        ("l", "d"),     // 270 "ld"
        ("Ġwor", "ld"), // 271 "Ġworld"
    ];

    /// <summary>A whole-word token with no merges leading to it, for the ignore_merges test.</summary>
    public const int Xyz = 272;

    public const int EndOfText = 273;
    public const int ImStart = 274;
    public const int ImEnd = 275;
    public const int Image = 276;
    public const int Audio = 277;
    public const int VocabSize = 284;

    /// <summary>Added special tokens with ids EndOfText, EndOfText + 1, ...</summary>
    public static readonly string[] SpecialTokens =
    [
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|image|>", "<|audio|>", "<|video|>", "<|pad|>",
        "<|img_0|>", "<|img_1|>", "<|aud_0|>", "<|aud_1|>",
    ];

    public static ByteLevelBpeTokenizer Gpt2Style(bool mergesAsArrays = false, bool addPrefixSpace = false) =>
        ByteLevelBpeTokenizer.Parse(Gpt2StyleJson(mergesAsArrays, addPrefixSpace));

    public static string Gpt2StyleJson(bool mergesAsArrays = false, bool addPrefixSpace = false) =>
        Build(
            w =>
            {
                w.WriteString("type", "ByteLevel");
                w.WriteBoolean("add_prefix_space", addPrefixSpace);
                w.WriteBoolean("trim_offsets", true);
                w.WriteBoolean("use_regex", true);
            },
            mergesAsArrays,
            ignoreMerges: false);

    /// <summary>Llama-3 / Qwen2 layout: Split(regex, Isolated) then ByteLevel without its own regex.</summary>
    public static ByteLevelBpeTokenizer Llama3Style(bool ignoreMerges = false, bool mergesAsArrays = true) =>
        ByteLevelBpeTokenizer.Parse(Build(
            w =>
            {
                w.WriteString("type", "Sequence");
                w.WriteStartArray("pretokenizers");
                w.WriteStartObject();
                w.WriteString("type", "Split");
                w.WriteStartObject("pattern");
                w.WriteString("Regex", Llama3Pattern);
                w.WriteEndObject();
                w.WriteString("behavior", "Isolated");
                w.WriteBoolean("invert", false);
                w.WriteEndObject();
                w.WriteStartObject();
                w.WriteString("type", "ByteLevel");
                w.WriteBoolean("add_prefix_space", false);
                w.WriteBoolean("trim_offsets", true);
                w.WriteBoolean("use_regex", false);
                w.WriteEndObject();
                w.WriteEndArray();
            },
            mergesAsArrays,
            ignoreMerges));

    public static string Build(Action<Utf8JsonWriter> writePreTokenizer, bool mergesAsArrays, bool ignoreMerges,
        Action<Utf8JsonWriter>? writeNormalizer = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions
               {
                   Indented = true,
                   // Write "Ġ" rather than "\u0120", as HF's files do (tests edit the JSON as text).
                   Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
               }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (var i = 0; i < SpecialTokens.Length; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("id", EndOfText + i);
                w.WriteString("content", SpecialTokens[i]);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (writeNormalizer is null)
            {
                w.WriteNull("normalizer");
            }
            else
            {
                w.WritePropertyName("normalizer");
                w.WriteStartObject();
                writeNormalizer(w);
                w.WriteEndObject();
            }

            w.WritePropertyName("pre_tokenizer");
            w.WriteStartObject();
            writePreTokenizer(w);
            w.WriteEndObject();
            w.WriteNull("post_processor");
            w.WriteStartObject("decoder");
            w.WriteString("type", "ByteLevel");
            w.WriteBoolean("add_prefix_space", true);
            w.WriteBoolean("trim_offsets", true);
            w.WriteBoolean("use_regex", true);
            w.WriteEndObject();

            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", ignoreMerges);
            w.WriteStartObject("vocab");
            for (var b = 0; b < 256; b++)
            {
                w.WriteNumber(ByteChar(b), b);
            }

            for (var rank = 0; rank < Merges.Length; rank++)
            {
                w.WriteNumber(Merges[rank].Left + Merges[rank].Right, 256 + rank);
            }

            w.WriteNumber("xyz", Xyz);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (left, right) in Merges)
            {
                if (mergesAsArrays)
                {
                    w.WriteStartArray();
                    w.WriteStringValue(left);
                    w.WriteStringValue(right);
                    w.WriteEndArray();
                }
                else
                {
                    w.WriteStringValue($"{left} {right}");
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>GPT-2's bytes_to_unicode, written out independently of the implementation under test.</summary>
    public static string ByteChar(int b)
    {
        var printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        if (printable)
        {
            return ((char)b).ToString();
        }

        var n = 0;
        for (var other = 0; other < b; other++)
        {
            var otherPrintable = (other >= 33 && other <= 126) || (other >= 161 && other <= 172) || (other >= 174 && other <= 255);
            if (!otherPrintable)
            {
                n++;
            }
        }

        return ((char)(256 + n)).ToString();
    }
}
