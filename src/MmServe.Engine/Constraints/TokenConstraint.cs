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
    private readonly Dictionary<(int State, int Limit), TokenMask> _limitedMasks = [];
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
    /// The mask for <paramref name="state"/> when the sequence may still generate <paramref name="tokensLeft"/> tokens
    /// (this one included). While every allowed token leaves room to finish, that is the state's cached mask; near
    /// the end only tokens after which the shortest completion plus EOS still fits are allowed, so an output is
    /// steered to close its strings and brackets instead of being cut. When even that is impossible (max_tokens
    /// below the shortest output) the plain mask is returned and the output ends by length.
    /// </summary>
    internal TokenMask MaskFor(int state, int tokensLeft)
    {
        lock (_gate)
        {
            var mask = PlainMask(state);
            int limit = tokensLeft - 2;
            if (mask.MaxMinBytesAfter <= limit)
            {
                return mask;
            }

            if (!_limitedMasks.TryGetValue((state, limit), out var limited))
            {
                limited = BuildMask(state, limit);
                _limitedMasks[(state, limit)] = limited;
            }

            return limited.AllowedCount > 0 ? limited : mask;
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

        return _masks[state] ??= BuildMask(state, int.MaxValue);
    }

    /// <summary>Walks the token tree from <paramref name="state"/>; a token is allowed when its bytes keep the automaton alive and its completion fits the limit.</summary>
    private TokenMask BuildMask(int state, int limit)
    {
        var bits = new ulong[(Vocabulary.Size + 63) / 64];
        int maxAfter = 0;
        int allowed = 0;
        if (_automaton.IsAccepting(state))
        {
            foreach (int eos in Vocabulary.EosTokenIds)
            {
                bits[eos >> 6] |= 1UL << (eos & 63);
                allowed++;
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
                int remaining = _automaton.MinBytesToComplete(next);
                var tokens = Vocabulary.TokensAt(childNode);
                if (tokens.Length > 0 && remaining <= limit)
                {
                    maxAfter = Math.Max(maxAfter, remaining);
                    foreach (int id in tokens)
                    {
                        bits[id >> 6] |= 1UL << (id & 63);
                        allowed++;
                    }
                }

                pending.Push((childNode, next));
            }
        }

        return new TokenMask(bits, maxAfter, allowed);
    }
}
