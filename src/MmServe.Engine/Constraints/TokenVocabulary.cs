namespace MmServe.Engine.Constraints;

/// <summary>
/// The bytes every token stands for, arranged as a prefix tree so that a mask is computed by walking the tree
/// once from a grammar state (shared prefixes are matched once). Built once per tokenizer and shared by every
/// constrained request of the model. Control tokens (specials, and tokens without bytes) are never part of a
/// constrained output; EOS is allowed separately, only where the grammar is complete.
/// </summary>
public sealed class TokenVocabulary
{
    // Node i's children are _childBytes/_childNodes[_childStart[i] .. _childStart[i + 1]); its tokens
    // _tokens[_tokenStart[i] .. _tokenStart[i + 1]).
    private readonly int[] _childStart;
    private readonly byte[] _childBytes;
    private readonly int[] _childNodes;
    private readonly int[] _tokenStart;
    private readonly int[] _tokens;
    private readonly byte[][] _tokenBytes;

    /// <param name="tokenBytes">Token id → its bytes (empty: never generated under a constraint).</param>
    /// <param name="isControl">Token id → a special token, never generated under a constraint.</param>
    /// <param name="eosTokenIds">The tokens that end a sequence.</param>
    public TokenVocabulary(IReadOnlyList<byte[]> tokenBytes, Func<int, bool> isControl, IEnumerable<int> eosTokenIds)
    {
        ArgumentNullException.ThrowIfNull(tokenBytes);
        Size = tokenBytes.Count;
        EosTokenIds = [.. eosTokenIds.Where(id => id >= 0 && id < Size).Distinct().Order()];
        var eos = new HashSet<int>(EosTokenIds);
        _tokenBytes = new byte[Size][];
        var ids = new List<int>();
        for (int id = 0; id < Size; id++)
        {
            _tokenBytes[id] = tokenBytes[id] ?? [];
            if (_tokenBytes[id].Length > 0 && !isControl(id) && !eos.Contains(id))
            {
                ids.Add(id);
            }
        }

        // Sorted by bytes, every node's subtree is one contiguous run: the tree is laid out in one pass.
        ids.Sort((a, b) => _tokenBytes[a].AsSpan().SequenceCompareTo(_tokenBytes[b]) is var c and not 0 ? c : a.CompareTo(b));
        (_childStart, _childBytes, _childNodes, _tokenStart, _tokens) = Layout(ids, _tokenBytes);
        MaxTokenBytes = ids.Count == 0 ? 0 : ids.Max(id => _tokenBytes[id].Length);
    }

    /// <summary>Token ids 0 .. Size-1 (the tokenizer's vocabulary).</summary>
    public int Size { get; }

    public IReadOnlyList<int> EosTokenIds { get; }

    public int MaxTokenBytes { get; }

    internal int NodeCount => _childStart.Length - 1;

    internal ReadOnlySpan<byte> BytesOf(int tokenId) => (uint)tokenId < (uint)Size ? _tokenBytes[tokenId] : [];

    internal (int Start, int End) Children(int node) => (_childStart[node], _childStart[node + 1]);

    internal byte ChildByte(int index) => _childBytes[index];

    internal int ChildNode(int index) => _childNodes[index];

    internal ReadOnlySpan<int> TokensAt(int node) => _tokens.AsSpan(_tokenStart[node], _tokenStart[node + 1] - _tokenStart[node]);

    private static (int[], byte[], int[], int[], int[]) Layout(List<int> sorted, byte[][] bytes)
    {
        // Build with lists first (node 0 the root), then flatten children into contiguous ranges.
        var children = new List<List<(byte Byte, int Node)>> { new() };
        var tokensAt = new List<List<int>> { new() };
        foreach (int id in sorted)
        {
            int node = 0;
            foreach (byte b in bytes[id])
            {
                var list = children[node];
                if (list.Count > 0 && list[^1].Byte == b)
                {
                    node = list[^1].Node;
                    continue;
                }

                children.Add([]);
                tokensAt.Add([]);
                list.Add((b, children.Count - 1));
                node = children.Count - 1;
            }

            tokensAt[node].Add(id);
        }

        int nodes = children.Count;
        var childStart = new int[nodes + 1];
        var tokenStart = new int[nodes + 1];
        for (int i = 0; i < nodes; i++)
        {
            childStart[i + 1] = childStart[i] + children[i].Count;
            tokenStart[i + 1] = tokenStart[i] + tokensAt[i].Count;
        }

        var childBytes = new byte[childStart[nodes]];
        var childNodes = new int[childStart[nodes]];
        var tokens = new int[tokenStart[nodes]];
        for (int i = 0; i < nodes; i++)
        {
            for (int c = 0; c < children[i].Count; c++)
            {
                childBytes[childStart[i] + c] = children[i][c].Byte;
                childNodes[childStart[i] + c] = children[i][c].Node;
            }

            tokensAt[i].CopyTo(tokens, tokenStart[i]);
        }

        return (childStart, childBytes, childNodes, tokenStart, tokens);
    }
}
