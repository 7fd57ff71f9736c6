using System.Text;

namespace MmServe.Engine.Constraints;

/// <summary>One symbol of an alternative: a byte set (terminal) or a rule.</summary>
public readonly record struct Symbol(ByteSet Bytes, int Rule)
{
    public static Symbol Of(ByteSet bytes) => new(bytes, -1);

    public static Symbol Ref(int rule) => new(default, rule);

    public bool IsRule => Rule >= 0;
}

/// <summary>
/// Builds a <see cref="Grammar"/>: declare rules, give each its alternatives, then <see cref="Build"/>. Rules may
/// refer to each other (also recursively) as long as no rule is left-recursive.
/// </summary>
public sealed class GrammarBuilder
{
    private readonly List<List<Symbol[]>> _rules = [];
    private readonly Dictionary<string, int> _literals = new(StringComparer.Ordinal);

    public int RuleCount => _rules.Count;

    /// <summary>Symbols in all alternatives so far: the grammar's size, which compilers bound.</summary>
    public int SymbolCount { get; private set; }

    public int NewRule()
    {
        _rules.Add([]);
        return _rules.Count - 1;
    }

    public void Add(int rule, params Symbol[] sequence)
    {
        _rules[rule].Add(sequence);
        SymbolCount += sequence.Length + 1;
    }

    /// <summary>A new rule with the given alternatives.</summary>
    public int Rule(params Symbol[][] alternatives)
    {
        int rule = NewRule();
        foreach (var alternative in alternatives)
        {
            Add(rule, alternative);
        }

        return rule;
    }

    /// <summary>The UTF-8 bytes of <paramref name="text"/>, one symbol each.</summary>
    public static Symbol[] Bytes(string text) => Array.ConvertAll(Encoding.UTF8.GetBytes(text), b => Symbol.Of(ByteSet.Of(b)));

    /// <summary>A rule matching exactly <paramref name="text"/> (one rule per distinct text).</summary>
    public Symbol Literal(string text)
    {
        if (!_literals.TryGetValue(text, out int rule))
        {
            rule = Rule(Bytes(text));
            _literals[text] = rule;
        }

        return Symbol.Ref(rule);
    }

    public Grammar Build(int root)
    {
        var elements = new List<int>();
        var byteSets = new List<ByteSet>();
        var setIndex = new Dictionary<ByteSet, int>();
        var alternatives = new int[_rules.Count][];
        for (int rule = 0; rule < _rules.Count; rule++)
        {
            if (_rules[rule].Count == 0)
            {
                throw new InvalidOperationException($"Grammar rule {rule} has no alternative.");
            }

            alternatives[rule] = new int[_rules[rule].Count];
            for (int a = 0; a < _rules[rule].Count; a++)
            {
                alternatives[rule][a] = elements.Count;
                foreach (var symbol in _rules[rule][a])
                {
                    elements.Add(symbol.IsRule ? symbol.Rule : -2 - IndexOf(symbol.Bytes));
                }

                elements.Add(Grammar.End);
            }
        }

        return new Grammar([.. elements], [.. byteSets], alternatives, root);

        int IndexOf(ByteSet set)
        {
            if (!setIndex.TryGetValue(set, out int index))
            {
                index = byteSets.Count;
                byteSets.Add(set);
                setIndex[set] = index;
            }

            return index;
        }
    }
}
