using System.Text;

namespace MmServe.Model.Tokenization;

/// <summary>
/// A HF tokenizer.json byte-level BPE tokenizer (GPT-2, Llama-3, Qwen2 style), reimplemented to give the same ids
/// as HF tokenizers. Encoding: added tokens are cut out of the raw text first (longest match), the remaining text
/// is normalized, pre-tokenized (regex split + byte-level mapping) and BPE-merged word by word.
/// </summary>
/// <remarks>
/// Known differences from HF, all outside what GPT-2/Llama-3/Qwen2 files use: added tokens marked "normalized" are
/// matched in the raw text rather than the normalized text; regex classes written with literal characters outside
/// the BMP are not supported by the .NET regex engine.
/// </remarks>
public sealed class ByteLevelBpeTokenizer : ITextTokenizer
{
    private readonly BpeModel _model;
    private readonly IReadOnlyDictionary<string, int> _vocab;
    private readonly Dictionary<string, int> _addedByContent;
    private readonly AddedTokenMatcher _matcher;
    private readonly TextNormalizer? _normalizer;
    private readonly IPreTokenizer _preTokenizer;
    private readonly string?[] _idToToken;
    private readonly byte[]?[] _tokenBytes;
    private readonly bool[] _isSpecial;

    private ByteLevelBpeTokenizer(HfTokenizerDefinition definition)
    {
        _model = definition.Model;
        _vocab = definition.Vocab;
        _normalizer = definition.Normalizer;
        _preTokenizer = definition.PreTokenizer;
        _matcher = new AddedTokenMatcher(definition.AddedTokens);
        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);

        var maxId = Math.Max(
            _vocab.Count == 0 ? -1 : _vocab.Values.Max(),
            definition.AddedTokens.Count == 0 ? -1 : definition.AddedTokens.Max(t => t.Id));
        VocabSize = maxId + 1;
        _idToToken = new string?[VocabSize];
        _tokenBytes = new byte[]?[VocabSize];
        _isSpecial = new bool[VocabSize];
        foreach (var (token, id) in _vocab)
        {
            _idToToken[id] = token;
            _tokenBytes[id] = ByteLevelAlphabet.Decode(token);
        }

        // Added tokens win over a model token with the same id: they decode to their literal content.
        foreach (var added in definition.AddedTokens)
        {
            _addedByContent[added.Content] = added.Id;
            _idToToken[added.Id] = added.Content;
            _tokenBytes[added.Id] = Encoding.UTF8.GetBytes(added.Content);
            _isSpecial[added.Id] = added.Special;
        }
    }

    public int VocabSize { get; }

    /// <summary>Loads a tokenizer.json file.</summary>
    /// <exception cref="InvalidDataException">The file is malformed (the message names the file and field).</exception>
    /// <exception cref="NotSupportedException">It uses a model, pre-tokenizer or decoder this class does not implement.</exception>
    public static ByteLevelBpeTokenizer Load(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses tokenizer.json content; <paramref name="source"/> names it in error messages.</summary>
    public static ByteLevelBpeTokenizer Parse(ReadOnlySpan<byte> utf8Json, string source = "tokenizer.json") =>
        new(HfTokenizerJsonReader.Read(utf8Json, source));

    public static ByteLevelBpeTokenizer Parse(string json, string source = "tokenizer.json") =>
        Parse(Encoding.UTF8.GetBytes(json), source);

    public int[] Encode(string text) => Encode([TextSegment.Trusted(text)]);

    public int[] Encode(IReadOnlyList<TextSegment> segments)
    {
        var ids = new List<int>();
        var pending = new StringBuilder();
        foreach (var segment in segments)
        {
            var text = segment.Text;
            var position = 0;
            foreach (var match in _matcher.FindAll(text, segment.MatchSpecialTokens))
            {
                pending.Append(text, position, match.Start - position);
                EncodeOrdinary(pending, ids);
                ids.Add(match.Token.Id);
                position = match.End;
            }

            // Plain text keeps accumulating across segments so a split between segments does not change the ids.
            pending.Append(text, position, text.Length - position);
        }

        EncodeOrdinary(pending, ids);
        return ids.ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (var id in ids)
        {
            if (IsKnown(id) && !(skipSpecial && _isSpecial[id]))
            {
                bytes.AddRange(_tokenBytes[id]!);
            }
        }

        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out var added) ? added
        : _vocab.TryGetValue(token, out var id) ? id
        : null;

    public string IdToToken(int id) =>
        IsKnown(id) ? _idToToken[id]! : throw new ArgumentOutOfRangeException(nameof(id), id, "no token has this id");

    public bool IsSpecial(int id) => IsKnown(id) && _isSpecial[id];

    public byte[] TokenBytes(int id) => IsKnown(id) ? _tokenBytes[id]! : [];

    private bool IsKnown(int id) => (uint)id < (uint)_idToToken.Length && _idToToken[id] is not null;

    private void EncodeOrdinary(StringBuilder pending, List<int> ids)
    {
        if (pending.Length == 0)
        {
            return;
        }

        // Lone surrogates cannot be normalized or UTF-8 encoded; HF (Rust strings) never sees them.
        var text = ReplaceLoneSurrogates(pending.ToString());
        pending.Clear();
        if (_normalizer is not null)
        {
            text = _normalizer.Normalize(text);
        }

        var words = new List<string>();
        _preTokenizer.Split(text, words);
        foreach (var word in words)
        {
            _model.Tokenize(word, ids);
        }
    }

    private static string ReplaceLoneSurrogates(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            return text;
        }

        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsSurrogatePair(text, i))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }
}
