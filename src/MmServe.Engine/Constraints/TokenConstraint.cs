namespace MmServe.Engine.Constraints;

/// <summary>
/// A grammar bound to a model's vocabulary: what a constrained request carries into the engine. It owns the lazily
/// built automaton and the mask cache (one mask per automaton state, plus budget-limited masks near the end of a
/// sequence's tokens), shared by every request with the same grammar, so after the first few requests masks are
/// table lookups. Thread-safe: workers serialise on one lock, held only for a lookup or a mask build.
/// </summary>
public sealed class TokenConstraint
{
    private readonly Lock _gate = new();
    private readonly ByteAutomaton _automaton;
    private readonly List<TokenMask?> _masks = [];
    // Budgets are a short per token; only states met near the end of a budget get one, and the cache is bounded.
    private const int MaxBudgets = 1024;
    private const int MaxMasks = 4096;
    private int _maskCount;
    private readonly Dictionary<int, TokenBudget> _budgets = [];
    private readonly bool[] _isEos;

    public TokenConstraint(Grammar grammar, TokenVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        Vocabulary = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));
        _automaton = new ByteAutomaton(grammar);
        _isEos = new bool[vocabulary.Size];
        foreach (int eos in vocabulary.EosTokenIds)
        {
            _isEos[eos] = true;
        }
    }

    public TokenVocabulary Vocabulary { get; }

    /// <summary>The fewest bytes of a valid output; a request needs at least this many tokens plus EOS to finish.</summary>
    public int MinOutputBytes => _automaton.MinBytesToComplete(_automaton.Start);

    /// <summary>Automaton states built so far (diagnostics, benchmarks).</summary>
    public int StatesBuilt
    {
        get
        {
            lock (_gate)
            {
                return _automaton.StateCount;
            }
        }
    }

    internal int Start => _automaton.Start;

    internal bool IsEos(int tokenId) => (uint)tokenId < (uint)_isEos.Length && _isEos[tokenId];

    /// <summary>
    /// Masks <paramref name="logits"/> for <paramref name="state"/> when the sequence may still generate
    /// <paramref name="tokensLeft"/> tokens (this one included). While every allowed token leaves room to finish, that
    /// is the state's cached mask; near the end only tokens after which the shortest completion plus EOS still fits
    /// are kept, so an output is steered to close its strings and brackets instead of being cut. Bytes stand in for
    /// tokens (every byte is a token in byte-level vocabularies), which is conservative. When even that cannot fit
    /// (max_tokens below the shortest output) the plain mask is used and the output ends by length.
    /// </summary>
    internal void Mask(int state, int tokensLeft, Span<float> logits)
    {
        lock (_gate)
        {
            var mask = PlainMask(state);
            int limit = tokensLeft - 2;
            bool fits = mask.MinBytesAfter <= limit || _automaton.IsAccepting(state);
            if (mask.MaxBytesAfter <= limit || !fits)
            {
                mask.Apply(logits);
                return;
            }

            BudgetOf(state).Apply(logits, limit);
        }
    }

    internal int Advance(int state, int tokenId)
    {
        lock (_gate)
        {
            foreach (byte b in Vocabulary.BytesOf(tokenId))
            {
                state = _automaton.Step(state, b);
            }

            return state;
        }
    }

    internal bool IsAccepting(int state)
    {
        lock (_gate)
        {
            return _automaton.IsAccepting(state);
        }
    }

    private TokenMask PlainMask(int state)
    {
        while (_masks.Count <= state)
        {
            _masks.Add(null);
        }

        if (_masks[state] is { } known)
        {
            return known;
        }

        // A mask is a bit per token (19 KB at 150k tokens): past MaxMasks they are dropped and rebuilt on demand,
        // so an open-ended grammar (any JSON) that keeps meeting new states cannot grow without bound.
        if (++_maskCount > MaxMasks)
        {
            _masks.Clear();
            _maskCount = 1;
            while (_masks.Count <= state)
            {
                _masks.Add(null);
            }
        }

        return _masks[state] = Walk(state, null);
    }

    private TokenBudget BudgetOf(int state)
    {
        if (!_budgets.TryGetValue(state, out var budget))
        {
            if (_budgets.Count >= MaxBudgets)
            {
                _budgets.Clear();
            }

            var bytesAfter = new short[Vocabulary.Size];
            Array.Fill(bytesAfter, short.MaxValue);
            Walk(state, bytesAfter);
            budget = new TokenBudget(bytesAfter);
            _budgets[state] = budget;
        }

        return budget;
    }

    /// <summary>
    /// Walks the token tree from <paramref name="state"/>: a token is allowed when its bytes keep the automaton alive.
    /// Also records, when asked, each allowed token's bytes still needed after it (EOS: -1 where allowed).
    /// </summary>
    private TokenMask Walk(int state, short[]? bytesAfter)
    {
        var bits = new ulong[(Vocabulary.Size + 63) / 64];
        int minAfter = int.MaxValue, maxAfter = 0;
        if (_automaton.IsAccepting(state))
        {
            foreach (int eos in Vocabulary.EosTokenIds)
            {
                bits[eos >> 6] |= 1UL << (eos & 63);
                bytesAfter?[eos] = -1;
            }
        }

        var pending = new Stack<(int Node, int State)>();
        pending.Push((0, state));
        while (pending.Count > 0)
        {
            var (node, at) = pending.Pop();
            var (first, end) = Vocabulary.Children(node);
            for (int child = first; child < end; child++)
            {
                int next = _automaton.Step(at, Vocabulary.ChildByte(child));
                if (next == ByteAutomaton.Dead)
                {
                    continue;
                }

                int childNode = Vocabulary.ChildNode(child);
                var tokens = Vocabulary.TokensAt(childNode);
                if (tokens.Length > 0)
                {
                    int remaining = _automaton.MinBytesToComplete(next);
                    minAfter = Math.Min(minAfter, remaining);
                    maxAfter = Math.Max(maxAfter, remaining);
                    foreach (int id in tokens)
                    {
                        bits[id >> 6] |= 1UL << (id & 63);
                        bytesAfter?[id] = (short)Math.Min(remaining, short.MaxValue - 1);
                    }
                }

                pending.Push((childNode, next));
            }
        }

        return new TokenMask(bits, minAfter, maxAfter);
    }
}
