using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MmServe.Model.Tokenization;

/// <summary>The parts of a HF tokenizer.json that a byte-level BPE tokenizer needs.</summary>
internal sealed record HfTokenizerDefinition(
    BpeModel Model,
    Dictionary<string, int> Vocab,
    IReadOnlyList<AddedToken> AddedTokens,
    TextNormalizer? Normalizer,
    IPreTokenizer PreTokenizer,
    TokenDecoding Decoding,
    SpecialTokenAffixes PostProcessor);

/// <summary>
/// What HF's post-processor puts around one sequence when add_special_tokens is true (e.g. Llama's BOS): the ids
/// before and after it. Chat templates usually write these themselves, so only some callers want them.
/// </summary>
public sealed record SpecialTokenAffixes(IReadOnlyList<int> Prefix, IReadOnlyList<int> Suffix)
{
    public static readonly SpecialTokenAffixes None = new([], []);
}

/// <summary>
/// Reads tokenizer.json (as written by HF tokenizers) for model.type "BPE": byte-level (ByteLevel pre-tokenizer and
/// decoder: GPT-2, Llama-3, Qwen2) or SentencePiece-style (▁ via Metaspace or Prepend/Replace normalizers, byte
/// fallback, Replace/ByteFallback/Fuse/Strip decoders: Llama-2, Mistral, Phi-3). Anything else fails loudly
/// rather than tokenizing differently from HF.
/// The post_processor is read only for what it adds around a single sequence (<see cref="SpecialTokenAffixes"/>).
/// </summary>
internal static class HfTokenizerJsonReader
{
    public static HfTokenizerDefinition Read(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON: {e.Message}", e);
        }

        using (document)
        {
            var reader = new Reader(source);
            return reader.Read(document.RootElement);
        }
    }

    private sealed class Reader(string source)
    {
        public HfTokenizerDefinition Read(JsonElement root)
        {
            var model = Property(root, "model", "");
            if (Optional(model, "type") is { ValueKind: JsonValueKind.String } type && type.GetString() != "BPE")
            {
                throw Unsupported("model.type", $"'{type.GetString()}' (only BPE is supported)");
            }

            foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            {
                if (Optional(model, affix) is { ValueKind: JsonValueKind.String } value && value.GetString() != "")
                {
                    throw Unsupported($"model.{affix}", "is not supported by byte-level BPE");
                }
            }

            var vocab = ReadVocab(Property(model, "vocab", "model"));
            var added = ReadAddedTokens(root);
            var merges = ReadMerges(Property(model, "merges", "model"), vocab);
            int? unkId = null;
            if (Optional(model, "unk_token") is { ValueKind: JsonValueKind.String } unk)
            {
                unkId = vocab.TryGetValue(unk.GetString()!, out var id)
                    ? id
                    : throw Invalid("model.unk_token", $"'{unk.GetString()}' is not in model.vocab");
            }

            // "dropout" is deliberately ignored: it is a training-time regularizer, never wanted when serving.
            var bpe = new BpeModel(
                vocab,
                merges,
                unkId,
                Bool(model, "fuse_unk"),
                Bool(model, "byte_fallback"),
                Bool(model, "ignore_merges"));

            var decoding = ReadDecoder(root);
            var preTokenizer = Optional(root, "pre_tokenizer") is { ValueKind: JsonValueKind.Object } pre
                ? ReadPreTokenizer(pre, "pre_tokenizer")
                : new WholeTextPreTokenizer();
            // Byte-level vocabularies only make sense with the byte-level mapping on both sides.
            if (decoding.ByteLevel != ContainsByteLevel(preTokenizer))
            {
                throw Unsupported("pre_tokenizer", decoding.ByteLevel
                    ? "has no ByteLevel step but the decoder is ByteLevel"
                    : "has a ByteLevel step but the decoder is not ByteLevel");
            }

            var normalizer = Optional(root, "normalizer") is { ValueKind: JsonValueKind.Object } n
                ? ReadNormalizer(n, "normalizer")
                : null;
            var postProcessor = Optional(root, "post_processor") is { ValueKind: JsonValueKind.Object } post
                ? ReadPostProcessor(post, "post_processor", vocab, added)
                : SpecialTokenAffixes.None;
            return new HfTokenizerDefinition(bpe, vocab, added, normalizer, preTokenizer, decoding, postProcessor);
        }

        private Dictionary<string, int> ReadVocab(JsonElement vocab)
        {
            if (vocab.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("model.vocab", "must be an object of token -> id");
            }

            var result = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var entry in vocab.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                {
                    throw Invalid($"model.vocab[\"{entry.Name}\"]", "must be a non-negative integer id");
                }

                result[entry.Name] = id;
            }

            return result;
        }

        /// <summary>Merges as "a b" strings (older files) or ["a", "b"] arrays (tokenizers >= 0.20).</summary>
        private Dictionary<long, (int Rank, int NewId)> ReadMerges(JsonElement merges, Dictionary<string, int> vocab)
        {
            if (merges.ValueKind != JsonValueKind.Array)
            {
                throw Invalid("model.merges", "must be an array");
            }

            var result = new Dictionary<long, (int, int)>(merges.GetArrayLength());
            var rank = 0;
            foreach (var merge in merges.EnumerateArray())
            {
                var field = $"model.merges[{rank}]";
                var (left, right) = SplitMerge(merge, field);
                var leftId = vocab.TryGetValue(left, out var l) ? l : throw Invalid(field, $"'{left}' is not in model.vocab");
                var rightId = vocab.TryGetValue(right, out var r) ? r : throw Invalid(field, $"'{right}' is not in model.vocab");
                var merged = left + right;
                var newId = vocab.TryGetValue(merged, out var m) ? m : throw Invalid(field, $"'{merged}' is not in model.vocab");
                // A repeated pair keeps its first (best) rank, as in HF.
                result.TryAdd(BpeModel.PairKey(leftId, rightId), (rank, newId));
                rank++;
            }

            return result;
        }

        private (string Left, string Right) SplitMerge(JsonElement merge, string field)
        {
            if (merge.ValueKind == JsonValueKind.String)
            {
                var parts = merge.GetString()!.Split(' ');
                return parts.Length == 2 ? (parts[0], parts[1]) : throw Invalid(field, "must be \"left right\"");
            }

            if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                return (merge[0].GetString()!, merge[1].GetString()!);
            }

            throw Invalid(field, "must be \"left right\" or [\"left\", \"right\"]");
        }

        private List<AddedToken> ReadAddedTokens(JsonElement root)
        {
            var result = new List<AddedToken>();
            if (Optional(root, "added_tokens") is not { ValueKind: JsonValueKind.Array } tokens)
            {
                return result;
            }

            var index = 0;
            foreach (var t in tokens.EnumerateArray())
            {
                var field = $"added_tokens[{index++}]";
                if (Optional(t, "id") is not { ValueKind: JsonValueKind.Number } id || !id.TryGetInt32(out var tokenId)
                    || tokenId < 0)
                {
                    throw Invalid($"{field}.id", "must be a non-negative integer");
                }

                if (Optional(t, "content") is not { ValueKind: JsonValueKind.String } content
                    || content.GetString()!.Length == 0)
                {
                    throw Invalid($"{field}.content", "must be a non-empty string");
                }

                result.Add(new AddedToken(
                    tokenId,
                    content.GetString()!,
                    Bool(t, "special"),
                    Bool(t, "single_word"),
                    Bool(t, "lstrip"),
                    Bool(t, "rstrip")));
            }

            return result;
        }

        private IPreTokenizer ReadPreTokenizer(JsonElement element, string field)
        {
            var type = TypeOf(element, field);
            switch (type)
            {
                case "ByteLevel":
                    return new ByteLevelPreTokenizer(
                        Bool(element, "add_prefix_space"),
                        Optional(element, "use_regex") is not { ValueKind: JsonValueKind.False });
                case "Sequence":
                {
                    var steps = Property(element, "pretokenizers", field);
                    var list = new List<IPreTokenizer>();
                    var i = 0;
                    foreach (var step in steps.EnumerateArray())
                    {
                        list.Add(ReadPreTokenizer(step, $"{field}.pretokenizers[{i++}]"));
                    }

                    return new SequencePreTokenizer(list);
                }

                case "Split":
                    return new SplitPreTokenizer(
                        ReadPattern(Property(element, "pattern", field), $"{field}.pattern"),
                        ReadBehavior(element, field),
                        Bool(element, "invert"));
                case "Digits":
                    return new DigitsPreTokenizer(Bool(element, "individual_digits"));
                case "Metaspace":
                    return new MetaspacePreTokenizer(
                        ReadReplacement(element, field), ReadPrependScheme(element, field),
                        Optional(element, "split") is not { ValueKind: JsonValueKind.False });
                default:
                    throw Unsupported(
                        $"{field}.type", $"'{type}' (supported: ByteLevel, Split, Digits, Metaspace, Sequence)");
            }
        }

        private Regex ReadPattern(JsonElement pattern, string field)
        {
            string regex;
            if (Optional(pattern, "Regex") is { ValueKind: JsonValueKind.String } r)
            {
                regex = r.GetString()!;
            }
            else if (Optional(pattern, "String") is { ValueKind: JsonValueKind.String } s)
            {
                regex = Regex.Escape(s.GetString()!);
            }
            else
            {
                throw Invalid(field, "must be {\"Regex\": ...} or {\"String\": ...}");
            }

            try
            {
                // Backtracking engine: HF patterns use lookarounds such as \s+(?!\S), which NonBacktracking rejects.
                // Multiline: HF compiles patterns with Oniguruma's Ruby syntax, where ^ and $ are line anchors
                // (DeepSeek's "\s+$" stops before a newline).
                return new Regex(regex, RegexOptions.Compiled | RegexOptions.CultureInvariant | RegexOptions.Multiline);
            }
            catch (ArgumentException e)
            {
                throw Unsupported(field, $"the .NET regex engine cannot compile it: {e.Message}");
            }
        }

        private SplitBehavior ReadBehavior(JsonElement element, string field)
        {
            var behavior = Optional(element, "behavior")?.GetString() ?? "Isolated";
            return Enum.TryParse<SplitBehavior>(behavior, ignoreCase: false, out var parsed)
                ? parsed
                : throw Unsupported($"{field}.behavior", $"'{behavior}'");
        }

        /// <summary>
        /// TemplateProcessing's "single" template (special tokens before and after "$A"), Roberta/Bert's cls and
        /// sep, Sequence of those; ByteLevel only adjusts offsets and adds nothing.
        /// </summary>
        private SpecialTokenAffixes ReadPostProcessor(
            JsonElement post, string field, Dictionary<string, int> vocab, IReadOnlyList<AddedToken> added)
        {
            var type = Optional(post, "type")?.GetString();
            switch (type)
            {
                case "ByteLevel":
                    return SpecialTokenAffixes.None;
                case "Sequence":
                    var prefix = new List<int>();
                    var suffix = new List<int>();
                    int i = 0;
                    foreach (var step in Property(post, "processors", field).EnumerateArray())
                    {
                        var affixes = ReadPostProcessor(step, $"{field}.processors[{i++}]", vocab, added);
                        prefix.AddRange(affixes.Prefix);
                        suffix.InsertRange(0, affixes.Suffix);
                    }

                    return new SpecialTokenAffixes(prefix, suffix);
                case "TemplateProcessing":
                    return ReadTemplateProcessing(post, field);
                case "RobertaProcessing" or "BertProcessing":
                    return new SpecialTokenAffixes([TokenPairId(post, "cls", field)], [TokenPairId(post, "sep", field)]);
                default:
                    throw Unsupported($"{field}.type", $"'{type}' is not supported");
            }
        }

        private SpecialTokenAffixes ReadTemplateProcessing(JsonElement post, string field)
        {
            var specials = Optional(post, "special_tokens") is { ValueKind: JsonValueKind.Object } s ? s : default;
            var prefix = new List<int>();
            var suffix = new List<int>();
            bool seenSequence = false;
            foreach (var piece in Property(post, "single", field).EnumerateArray())
            {
                if (Optional(piece, "Sequence") is not null)
                {
                    seenSequence = true;
                    continue;
                }

                if (Optional(piece, "SpecialToken") is not { } special || Optional(special, "id")?.GetString() is not { } name)
                {
                    throw Invalid($"{field}.single", "holds an entry that is neither Sequence nor SpecialToken");
                }

                if (specials.ValueKind != JsonValueKind.Object || Optional(specials, name) is not { } entry
                    || Optional(entry, "ids") is not { ValueKind: JsonValueKind.Array } ids)
                {
                    throw Invalid($"{field}.special_tokens", $"has no ids for '{name}'");
                }

                (seenSequence ? suffix : prefix).AddRange(ids.EnumerateArray().Select(id => id.GetInt32()));
            }

            return new SpecialTokenAffixes(prefix, suffix);
        }

        private int TokenPairId(JsonElement post, string name, string field) =>
            Optional(post, name) is { ValueKind: JsonValueKind.Array } pair && pair.GetArrayLength() == 2 && pair[1].TryGetInt32(out var id)
                ? id
                : throw Invalid($"{field}.{name}", "must be [token, id]");

        private TokenDecoding ReadDecoder(JsonElement root)
        {
            if (Optional(root, "decoder") is not { ValueKind: JsonValueKind.Object } decoder)
            {
                throw Unsupported("decoder", "is missing (ByteLevel, Metaspace or a Replace/ByteFallback/Fuse/Strip sequence is required)");
            }

            var steps = TypeOf(decoder, "decoder") == "Sequence"
                ? Property(decoder, "decoders", "decoder").EnumerateArray()
                    .Select((d, i) => (Element: d, Field: $"decoder.decoders[{i}]")).ToList()
                : [(decoder, "decoder")];
            var byteLevel = false;
            var byteFallback = false;
            var strip = 0;
            var replacements = new List<(string, string)>();
            foreach (var (step, field) in steps)
            {
                switch (TypeOf(step, field))
                {
                    case "ByteLevel":
                        byteLevel = true;
                        break;
                    case "ByteFallback":
                        byteFallback = true;
                        break;
                    case "Fuse":
                        break;
                    case "Replace":
                        replacements.Add((ReadLiteralPattern(step, field), Property(step, "content", field).GetString()!));
                        break;
                    case "Strip":
                        if (Property(step, "content", field).GetString() != " " || Int(step, "stop") != 0)
                        {
                            throw Unsupported(field, "Strip other than leading spaces is not supported");
                        }

                        strip = Int(step, "start");
                        break;
                    case "Metaspace":
                        // HF's Metaspace decoder: replacement -> " ", and the first token loses one leading space
                        // unless nothing was prepended when encoding.
                        replacements.Add((ReadReplacement(step, field), " "));
                        strip = ReadPrependScheme(step, field) == MetaspacePrepend.Never ? 0 : 1;
                        break;
                    case var other:
                        throw Unsupported($"{field}.type",
                            $"'{other}' (supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)");
                }
            }

            if (byteLevel && (byteFallback || strip != 0 || replacements.Count != 0))
            {
                throw Unsupported("decoder", "mixes ByteLevel with SentencePiece-style steps");
            }

            return byteLevel ? TokenDecoding.ByteLevelDecoding : new TokenDecoding(false, replacements, byteFallback, strip);
        }

        private string ReadLiteralPattern(JsonElement step, string field) =>
            Optional(Property(step, "pattern", field), "String") is { ValueKind: JsonValueKind.String } s
                ? s.GetString()!
                : throw Unsupported($"{field}.pattern", "only {\"String\": ...} patterns are supported here");

        private string ReadReplacement(JsonElement element, string field) =>
            Optional(element, "replacement") is { ValueKind: JsonValueKind.String } r && r.GetString()!.Length > 0
                ? r.GetString()!
                : throw Invalid($"{field}.replacement", "must be a non-empty string");

        /// <summary>prepend_scheme, or the older add_prefix_space flag it replaced (true meaning "always").</summary>
        private MetaspacePrepend ReadPrependScheme(JsonElement element, string field)
        {
            if (Optional(element, "prepend_scheme") is { ValueKind: JsonValueKind.String } scheme)
            {
                return scheme.GetString() switch
                {
                    "always" => MetaspacePrepend.Always,
                    "first" => MetaspacePrepend.First,
                    "never" => MetaspacePrepend.Never,
                    var other => throw Unsupported($"{field}.prepend_scheme", $"'{other}'"),
                };
            }

            return Optional(element, "add_prefix_space") is { ValueKind: JsonValueKind.False }
                ? MetaspacePrepend.Never
                : MetaspacePrepend.Always;
        }

        private int Int(JsonElement element, string name) =>
            Optional(element, name) is { ValueKind: JsonValueKind.Number } n && n.TryGetInt32(out var value) && value >= 0
                ? value
                : 0;

        private TextNormalizer ReadNormalizer(JsonElement element, string field)
        {
            var type = TypeOf(element, field);
            return type switch
            {
                "NFC" => TextNormalizer.UnicodeForm(NormalizationForm.FormC),
                "NFD" => TextNormalizer.UnicodeForm(NormalizationForm.FormD),
                "NFKC" => TextNormalizer.UnicodeForm(NormalizationForm.FormKC),
                "NFKD" => TextNormalizer.UnicodeForm(NormalizationForm.FormKD),
                "Lowercase" => TextNormalizer.Lowercase(),
                "Prepend" => TextNormalizer.Prepend(Property(element, "prepend", field).GetString()!),
                "Replace" => ReadReplaceNormalizer(element, field),
                "Sequence" => TextNormalizer.Sequence(Property(element, "normalizers", field).EnumerateArray()
                    .Select((n, i) => ReadNormalizer(n, $"{field}.normalizers[{i}]"))),
                _ => throw Unsupported($"{field}.type", $"'{type}' (supported: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Sequence)"),
            };
        }

        private TextNormalizer ReadReplaceNormalizer(JsonElement element, string field)
        {
            var content = Property(element, "content", field).GetString()!;
            var pattern = Property(element, "pattern", field);
            return Optional(pattern, "String") is { ValueKind: JsonValueKind.String } literal
                ? TextNormalizer.Replace(literal.GetString()!, content)
                : TextNormalizer.Replace(ReadPattern(pattern, $"{field}.pattern"), content);
        }

        private static bool ContainsByteLevel(IPreTokenizer preTokenizer) => preTokenizer switch
        {
            ByteLevelPreTokenizer => true,
            SequencePreTokenizer sequence => sequence.Steps.Any(ContainsByteLevel),
            _ => false,
        };

        private string TypeOf(JsonElement element, string field) =>
            Optional(element, "type") is { ValueKind: JsonValueKind.String } type
                ? type.GetString()!
                : throw Invalid($"{field}.type", "is required");

        private JsonElement Property(JsonElement element, string name, string parentField) =>
            Optional(element, name)
            ?? throw Invalid(parentField.Length == 0 ? name : $"{parentField}.{name}", "is required");

        private static JsonElement? Optional(JsonElement element, string name) =>
            element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
                && value.ValueKind != JsonValueKind.Null
                ? value
                : null;

        private static bool Bool(JsonElement element, string name) =>
            Optional(element, name) is { ValueKind: JsonValueKind.True };

        private InvalidDataException Invalid(string field, string problem) => new($"{source}: {field} {problem}");

        private NotSupportedException Unsupported(string field, string problem) => new($"{source}: {field} {problem}");
    }
}
