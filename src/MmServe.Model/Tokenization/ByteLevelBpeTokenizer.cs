using System.Text;

namespace MmServe.Model.Tokenization;

/// <summary>
/// A HF tokenizer.json BPE tokenizer, reimplemented to give the same ids and text as HF tokenizers: byte-level
/// (GPT-2, Llama-3, Qwen2 style) and SentencePiece-style with "▁" and byte fallback (Llama-2, Mistral, Phi-3
/// style; the name predates that). Encoding: added tokens are cut out of the raw text first (longest match), the
/// remaining text is normalized, pre-tokenized (regex split + byte-level mapping, or Metaspace) and BPE-merged
/// word by word.
/// </summary>
/// <remarks>
/// Known differences from HF, all outside what GPT-2/Llama-3/Qwen2/Llama-2/Mistral files use: added tokens marked
/// "normalized" are matched in the raw text rather than the normalized text; regex classes written with literal
/// characters outside the BMP are not supported by the .NET regex engine; with DeepSeek-style patterns a few
/// unassigned code points outside the BMP split differently from Oniguruma; the ByteFallback decoder's per-byte
/// U+FFFD for an invalid byte run is applied by Decode but not by streaming (which follows UTF-8's rules). Unigram
/// and WordPiece models are not implemented.
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
    private readonly bool[] _isByteToken;
    private readonly TokenDecoding _decoding;
    private readonly ByteLevelWordSplitter? _fastSplitter;
    private readonly TokenCountBound? _countBound;

    private ByteLevelBpeTokenizer(HfTokenizerDefinition definition)
    {
        _model = definition.Model;
        _vocab = definition.Vocab;
        _normalizer = definition.Normalizer;
        _preTokenizer = definition.PreTokenizer;
        _decoding = definition.Decoding;
        PostProcessor = definition.PostProcessor;
        _fastSplitter = ByteLevelWordSplitter.TryCreate(_preTokenizer);
        _countBound = TokenCountBound.TryCreate(definition);
        _matcher = new AddedTokenMatcher(definition.AddedTokens);
        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);

        var maxId = Math.Max(
            _vocab.Count == 0 ? -1 : _vocab.Values.Max(),
            definition.AddedTokens.Count == 0 ? -1 : definition.AddedTokens.Max(t => t.Id));
        VocabSize = maxId + 1;
        _idToToken = new string?[VocabSize];
        _tokenBytes = new byte[]?[VocabSize];
        _isSpecial = new bool[VocabSize];
        _isByteToken = new bool[VocabSize];
        foreach (var (token, id) in _vocab)
        {
            _idToToken[id] = token;
            _tokenBytes[id] = _decoding.TokenBytes(token);
            _isByteToken[id] = _decoding.ByteFallback && TokenDecoding.TryParseByteToken(token, out _);
        }

        // Added tokens win over a model token with the same id: they decode to their literal content.
        foreach (var added in definition.AddedTokens)
        {
            _addedByContent[added.Content] = added.Id;
            _idToToken[added.Id] = added.Content;
            _tokenBytes[added.Id] = Encoding.UTF8.GetBytes(added.Content);
            _isSpecial[added.Id] = added.Special;
            _isByteToken[added.Id] = false;
        }
    }

    public int VocabSize { get; }

    /// <summary>What HF adds around a sequence with add_special_tokens=True (tokenizer.json's post_processor).</summary>
    public SpecialTokenAffixes PostProcessor { get; }

    public int LeadingSpacesStrippedOnDecode => _decoding.StripLeadingSpaces;

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

    /// <summary>
    /// The most units (UTF-8 bytes for byte-level tokenizers, UTF-16 chars otherwise) one token covers, when the
    /// tokenizer guarantees such a bound (see <see cref="MinimumTokens"/>); null when it does not.
    /// </summary>
    public int? MaxUnitsPerToken => _countBound?.MaxUnitsPerToken;

    /// <summary>
    /// A lower bound on the tokens <paramref name="text"/> adds to any prompt it is part of, computed from its length
    /// (after the cheap normalizer step) without running BPE; 0 when the tokenizer guarantees no bound. One token less
    /// than the plain bound, because normalizing at a segment boundary may join the text's first character to the
    /// one before it.
    /// </summary>
    public long MinimumTokens(string text)
    {
        if (_countBound is null || text.Length == 0)
        {
            return 0;
        }

        var normalized = _normalizer is null ? text : _normalizer.Normalize(ReplaceLoneSurrogates(text));
        return Math.Max(0, _countBound.MinimumTokens(normalized) - 1);
    }

    public int[] Encode(IReadOnlyList<TextSegment> segments)
    {
        var ids = new List<int>();
        var pending = new StringBuilder();
        // Whether the pending text begins the input (Metaspace's prepend_scheme "first" looks at that).
        var atStart = true;
        foreach (var segment in segments)
        {
            var text = segment.Text;
            var position = 0;
            foreach (var match in _matcher.FindAll(text, segment.MatchSpecialTokens))
            {
                pending.Append(text, position, match.Start - position);
                EncodeOrdinary(pending, atStart, ids);
                ids.Add(match.Token.Id);
                position = match.End;
                atStart = false;
            }

            // Plain text keeps accumulating across segments so a split between segments does not change the ids.
            pending.Append(text, position, text.Length - position);
        }

        EncodeOrdinary(pending, atStart, ids);
        return ids.ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial)
    {
        var bytes = new List<byte>(ids.Length * 4);
        var byteRunStart = -1;
        foreach (var id in ids)
        {
            if (!IsKnown(id) || (skipSpecial && _isSpecial[id]))
            {
                continue;
            }

            if (_isByteToken[id])
            {
                byteRunStart = byteRunStart < 0 ? bytes.Count : byteRunStart;
            }
            else
            {
                EndByteRun(bytes, ref byteRunStart);
            }

            bytes.AddRange(_tokenBytes[id]!);
        }

        EndByteRun(bytes, ref byteRunStart);
        var text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
        return StripLeadingSpaces(text, _decoding.StripLeadingSpaces);
    }

    /// <summary>Removes up to <paramref name="count"/> leading spaces (HF's Strip decoder after Fuse).</summary>
    internal static string StripLeadingSpaces(string text, int count)
    {
        var cut = 0;
        while (cut < count && cut < text.Length && text[cut] == ' ')
        {
            cut++;
        }

        return cut == 0 ? text : text[cut..];
    }

    /// <summary>
    /// HF's ByteFallback decoder turns a run of &lt;0xXX&gt; tokens that is not valid UTF-8 into one U+FFFD per
    /// byte (where a plain UTF-8 decode would give one per maximal invalid sequence).
    /// </summary>
    private static void EndByteRun(List<byte> bytes, ref int runStart)
    {
        if (runStart < 0)
        {
            return;
        }

        var run = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)[runStart..];
        if (!System.Text.Unicode.Utf8.IsValid(run))
        {
            var length = run.Length;
            bytes.RemoveRange(runStart, length);
            for (var i = 0; i < length; i++)
            {
                bytes.AddRange("\uFFFD"u8);
            }
        }

        runStart = -1;
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

    private void EncodeOrdinary(StringBuilder pending, bool atStart, List<int> ids)
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

        if (_fastSplitter is not null)
        {
            _fastSplitter.Tokenize(text, _model, ids);
            return;
        }

        var words = new List<string>();
        _preTokenizer.Split(text, atStart, words);
        foreach (var word in words)
        {
            _model.Tokenize(word, ids);
        }
    }

    private static string ReplaceLoneSurrogates(string text)
    {
        // Jump from surrogate to surrogate (vectorized); most text has none or only well-formed pairs.
        char[]? chars = null;
        var i = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0 && i < text.Length)
        {
            if (char.IsSurrogatePair(text, i))
            {
                i += 2;
            }
            else
            {
                chars ??= text.ToCharArray();
                chars[i] = '\uFFFD';
                i++;
            }

            var next = i < text.Length ? text.AsSpan(i).IndexOfAnyInRange('\uD800', '\uDFFF') : -1;
            i = next < 0 ? -1 : i + next;
        }

        return chars is null ? text : new string(chars);
    }
}
