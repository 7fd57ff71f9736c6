namespace MmServe.Engine.Constraints;

/// <summary>
/// A context-free grammar over bytes, flattened for matching: every alternative of every rule is a run of
/// elements (a byte set or a reference to a rule) ended by an End element, so a parse position is one int.
/// Immutable once built (see <see cref="GrammarBuilder"/>); shared by every request that uses it.
/// </summary>
public sealed class Grammar
{
    internal const int End = -1;

    // Per element: >= 0 a rule id, End, or -(2 + i) the byte set i.
    private readonly int[] _elements;
    private readonly ByteSet[] _byteSets;

    internal Grammar(int[] elements, ByteSet[] byteSets, int[][] alternatives, int root)
    {
        _elements = elements;
        _byteSets = byteSets;
        Alternatives = alternatives;
        Root = root;
        SuffixMinBytes = ComputeSuffixMinBytes(elements, alternatives);
    }

    /// <summary>Rule id → the position of the first element of each of its alternatives.</summary>
    internal int[][] Alternatives { get; }

    internal int Root { get; }

    /// <summary>
    /// Position → the fewest bytes that complete its alternative from there (the element itself included). What the
    /// budget-aware mask uses to steer a sequence to the shortest valid ending when its tokens run out.
    /// </summary>
    internal int[] SuffixMinBytes { get; }

    internal bool IsEnd(int position) => _elements[position] == End;

    internal bool IsRule(int position, out int rule)
    {
        rule = _elements[position];
        return rule >= 0;
    }

    internal bool Matches(int position, byte value)
    {
        int element = _elements[position];
        return element <= -2 && _byteSets[-2 - element].Contains(value);
    }

    private static int[] ComputeSuffixMinBytes(int[] elements, int[][] alternatives)
    {
        // Fixpoint over rule minima: a rule is the cheapest of its alternatives, an alternative the sum of its elements.
        const int Unknown = int.MaxValue / 4;
        var ruleMin = new int[alternatives.Length];
        Array.Fill(ruleMin, Unknown);
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int rule = 0; rule < alternatives.Length; rule++)
            {
                foreach (int start in alternatives[rule])
                {
                    int cost = AlternativeCost(elements, start, ruleMin);
                    if (cost < ruleMin[rule])
                    {
                        ruleMin[rule] = cost;
                        changed = true;
                    }
                }
            }
        }

        var suffix = new int[elements.Length];
        for (int position = elements.Length - 1; position >= 0; position--)
        {
            int element = elements[position];
            suffix[position] = element == End ? 0 : Math.Min(Unknown, ElementCost(element, ruleMin) + suffix[position + 1]);
        }

        return suffix;
    }

    private static int AlternativeCost(int[] elements, int start, int[] ruleMin)
    {
        long cost = 0;
        for (int position = start; elements[position] != End; position++)
        {
            cost += ElementCost(elements[position], ruleMin);
        }

        return (int)Math.Min(cost, int.MaxValue / 4);
    }

    private static int ElementCost(int element, int[] ruleMin) => element >= 0 ? ruleMin[element] : 1;
}
