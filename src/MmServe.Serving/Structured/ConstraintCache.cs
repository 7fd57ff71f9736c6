using System.Collections.Concurrent;
using MmServe.Engine.Constraints;
using MmServe.Model.Tokenization;

namespace MmServe.Serving.Structured;

/// <summary>
/// One model's compiled constraints: the token vocabulary (token bytes and the trie, built on first use) and the
/// grammars clients sent, by their text, so that a schema used by many requests is compiled once and its masks,
/// cached inside the <see cref="TokenConstraint"/>, are shared. Bounded: past <see cref="MaxEntries"/> schemas the
/// cache starts over (requests holding a constraint keep it).
/// </summary>
public sealed class ConstraintCache(ITextTokenizer tokenizer, IReadOnlyList<int> eosTokenIds)
{
    public const int MaxEntries = 256;

    private readonly Lazy<TokenVocabulary> _vocabulary = new(() => new TokenVocabulary(
        [.. Enumerable.Range(0, tokenizer.VocabSize).Select(tokenizer.TokenBytes)], tokenizer.IsSpecial, eosTokenIds));

    private readonly ConcurrentDictionary<string, Lazy<TokenConstraint>> _compiled = new(StringComparer.Ordinal);

    public TokenVocabulary Vocabulary => _vocabulary.Value;

    /// <summary>The constraint for <paramref name="key"/>, compiling it with <paramref name="compile"/> the first time.</summary>
    /// <exception cref="UnsupportedSchemaException">From <paramref name="compile"/>; nothing is cached then.</exception>
    public TokenConstraint GetOrCompile(string key, Func<Grammar> compile)
    {
        if (_compiled.Count >= MaxEntries)
        {
            _compiled.Clear();
        }

        var entry = _compiled.GetOrAdd(key, _ => new Lazy<TokenConstraint>(() => new TokenConstraint(compile(), Vocabulary)));
        try
        {
            return entry.Value;
        }
        catch
        {
            // A refused schema is not cached: Lazy would rethrow the same exception to every later request.
            _compiled.TryRemove(new KeyValuePair<string, Lazy<TokenConstraint>>(key, entry));
            throw;
        }
    }
}
