namespace MmServe.Engine.Constraints;

/// <summary>
/// The grammar run as a pushdown automaton, determinised lazily: a state is the set of parse stacks alive after
/// the bytes read so far (several when alternatives are ambiguous, e.g. anyOf), interned so that equal sets get
/// one id, and every (state, byte) transition is computed once and then read from a table. Stacks are interned
/// immutable linked frames, and a call in tail position does not push a frame, so right-recursive loops (arrays,
/// strings) stay in a bounded set of states. Not thread-safe: <see cref="TokenConstraint"/> serialises access.
/// </summary>
internal sealed class ByteAutomaton
{
    /// <summary>The state with no live stack: every byte was refused.</summary>
    public const int Dead = 0;

    // Stack frame 0 is the empty stack: its presence in a state means the input so far is a complete sentence.
    private const int EmptyStack = 0;

    private readonly Grammar _grammar;
    private readonly List<(int Position, int Parent)> _frames = [(-1, -1)];
    private readonly Dictionary<(int, int), int> _frameIds = [];
    private readonly List<int> _frameMinBytes = [0];

    private readonly List<int[]> _states = [[]];
    private readonly Dictionary<StateKey, int> _stateIds = [];
    private readonly List<int[]?> _transitions = [null];
    private readonly List<int> _stateMinBytes = [int.MaxValue];

    private readonly HashSet<int> _scratch = [];
    private readonly HashSet<(int, int)> _expanding = [];

    public ByteAutomaton(Grammar grammar)
    {
        _grammar = grammar;
        _stateIds[new StateKey([])] = Dead;
        foreach (int start in grammar.Alternatives[grammar.Root])
        {
            Expand(start, EmptyStack);
        }

        Start = Intern();
    }

    public int Start { get; }

    public int StateCount => _states.Count;

    /// <summary>Whether the bytes read so far form a complete sentence (EOS may follow).</summary>
    public bool IsAccepting(int state) => state != Dead && _states[state].Length > 0 && _states[state][0] == EmptyStack;

    /// <summary>The fewest bytes that complete a sentence from this state; 0 when accepting, int.MaxValue when dead.</summary>
    public int MinBytesToComplete(int state) => _stateMinBytes[state];

    public int Step(int state, byte value)
    {
        if (state == Dead)
        {
            return Dead;
        }

        var row = _transitions[state] ??= new int[256];
        int known = row[value];
        if (known != 0)
        {
            return known - 1;
        }

        foreach (int frame in _states[state])
        {
            var (position, parent) = _frames[frame];
            if (frame != EmptyStack && _grammar.Matches(position, value))
            {
                Expand(position + 1, parent);
            }
        }

        int next = Intern();
        // _transitions may have grown while interning; index it again.
        _transitions[state]![value] = next + 1;
        return next;
    }

    /// <summary>Adds to the scratch set every stack that continues at <paramref name="position"/> with a byte to read.</summary>
    private void Expand(int position, int parent)
    {
        if (!_expanding.Add((position, parent)))
        {
            return;
        }

        if (_grammar.IsEnd(position))
        {
            if (parent == EmptyStack)
            {
                _scratch.Add(EmptyStack);
            }
            else
            {
                var (returnTo, grandParent) = _frames[parent];
                Expand(returnTo, grandParent);
            }
        }
        else if (_grammar.IsRule(position, out int rule))
        {
            // Tail call: returning to an End pops straight to the parent, so no frame is needed for it.
            int returnFrame = _grammar.IsEnd(position + 1) ? parent : Frame(position + 1, parent);
            foreach (int start in _grammar.Alternatives[rule])
            {
                Expand(start, returnFrame);
            }
        }
        else
        {
            _scratch.Add(Frame(position, parent));
        }
    }

    private int Frame(int position, int parent)
    {
        if (!_frameIds.TryGetValue((position, parent), out int id))
        {
            id = _frames.Count;
            _frames.Add((position, parent));
            _frameIds[(position, parent)] = id;
            long cost = (long)_grammar.SuffixMinBytes[position] + _frameMinBytes[parent];
            _frameMinBytes.Add((int)Math.Min(cost, int.MaxValue / 2));
        }

        return id;
    }

    private int Intern()
    {
        _expanding.Clear();
        var frames = _scratch.ToArray();
        _scratch.Clear();
        Array.Sort(frames);
        var key = new StateKey(frames);
        if (_stateIds.TryGetValue(key, out int id))
        {
            return id;
        }

        id = _states.Count;
        _states.Add(frames);
        _stateIds[key] = id;
        _transitions.Add(null);
        int min = int.MaxValue;
        foreach (int frame in frames)
        {
            min = Math.Min(min, _frameMinBytes[frame]);
        }

        _stateMinBytes.Add(min);
        return id;
    }

    /// <summary>A sorted frame set compared by value.</summary>
    private readonly struct StateKey(int[] frames) : IEquatable<StateKey>
    {
        private readonly int[] _frames = frames;

        public bool Equals(StateKey other) => _frames.AsSpan().SequenceEqual(other._frames);

        public override bool Equals(object? obj) => obj is StateKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (int frame in _frames)
            {
                hash.Add(frame);
            }

            return hash.ToHashCode();
        }
    }
}
