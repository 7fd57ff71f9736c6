using MmServe.Engine.Core;

namespace MmServe.Engine.Scheduling;

/// <summary>One row of a step: a whole prompt (prefill) or one decode token.</summary>
internal readonly record struct ScheduledSequence(Sequence Sequence, int StartPosition, int NumTokens)
{
    public bool IsPrefill => StartPosition == 0;
}

/// <summary>
/// What the next Forward call runs: running decodes first, then newcomers' prefills. Reused by the scheduler
/// every step, so it is only valid until the next <see cref="Scheduler.Schedule"/>.
/// </summary>
internal sealed class StepPlan
{
    private readonly List<ScheduledSequence> _items = [];

    public IReadOnlyList<ScheduledSequence> Items => _items;

    public int TotalTokens { get; private set; }

    public int NumPrefills { get; private set; }

    public bool IsEmpty => _items.Count == 0;

    internal void Clear()
    {
        _items.Clear();
        TotalTokens = 0;
        NumPrefills = 0;
    }

    internal void Add(Sequence sequence, int startPosition, int numTokens)
    {
        _items.Add(new ScheduledSequence(sequence, startPosition, numTokens));
        TotalTokens += numTokens;
        if (startPosition == 0)
        {
            NumPrefills++;
        }
    }
}
