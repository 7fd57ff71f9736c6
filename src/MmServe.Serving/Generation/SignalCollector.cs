using MmServe.Engine;

namespace MmServe.Serving.Generation;

/// <summary>
/// Assembles generator inputs from a request's stream: the hidden state fed at each signal token of a requested
/// output modality, in signal-token order. When every signal token of a modality has been fed, one item is
/// complete (a model may emit several, e.g. two images). As in the reference, the hidden state of a token is the
/// decoder's output at the step that feeds it back, so a signal token that ends the sequence (max_tokens) yields
/// no item.
/// </summary>
public sealed class SignalCollector
{
    private readonly int _promptLength;
    private readonly int _hiddenSize;
    private readonly List<int> _generated = [];
    private readonly Group[] _groups;

    public SignalCollector(IEnumerable<OutputModality> requested, int promptLength, int hiddenSize)
    {
        _promptLength = promptLength;
        _hiddenSize = hiddenSize;
        _groups = [.. requested.Select(m => new Group(m, hiddenSize))];
        TokenIds = _groups.SelectMany(g => g.Modality.SignalTokenIds).ToHashSet();
    }

    /// <summary>The engine streams hidden states of these tokens only.</summary>
    public IReadOnlySet<int> TokenIds { get; }

    /// <summary>Takes one delta; adds each item it completes to <paramref name="completed"/>.</summary>
    public void Observe(TokenDeltaEvent delta, List<SignalItem> completed)
    {
        // A merged delta lists a token before the step that feeds it back, so every hidden row's token is known here.
        _generated.AddRange(delta.TokenIds);
        if (delta.HiddenStates is not { } hidden)
        {
            return;
        }

        for (int row = 0; row < hidden.TokenCount; row++)
        {
            int index = hidden.Positions[row] - _promptLength;
            if ((uint)index >= (uint)_generated.Count)
            {
                continue;
            }

            int token = _generated[index];
            foreach (var group in _groups)
            {
                if (group.Add(token, index, hidden.Row(row).Span) is { } item)
                {
                    completed.Add(item);
                }
            }
        }
    }

    private sealed class Group(OutputModality modality, int hiddenSize)
    {
        private readonly float[] _values = new float[modality.SignalTokenIds.Count * hiddenSize];
        private readonly bool[] _filled = new bool[modality.SignalTokenIds.Count];
        private int _count;
        private int _first = int.MaxValue;
        private int _last = -1;

        public OutputModality Modality => modality;

        /// <summary>Stores the row if the token is one of this modality's signals; returns the item once all are in.</summary>
        public SignalItem? Add(int token, int completionIndex, ReadOnlySpan<float> row)
        {
            int k = IndexOf(modality.SignalTokenIds, token);
            if (k < 0)
            {
                return null;
            }

            row.CopyTo(_values.AsSpan(k * hiddenSize, hiddenSize));
            _first = Math.Min(_first, completionIndex);
            _last = Math.Max(_last, completionIndex);
            if (!_filled[k])
            {
                _filled[k] = true;
                _count++;
            }

            if (_count < _filled.Length)
            {
                return null;
            }

            var item = new SignalItem(modality, (float[])_values.Clone(), _first, _last + 1);
            Array.Clear(_filled);
            _count = 0;
            _first = int.MaxValue;
            _last = -1;
            return item;
        }

        private static int IndexOf(IReadOnlyList<int> ids, int token)
        {
            for (int i = 0; i < ids.Count; i++)
            {
                if (ids[i] == token)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}

/// <summary>One complete generator input and where its signal tokens sit in the completion.</summary>
/// <param name="Modality">The output modality to generate.</param>
/// <param name="SignalHiddenStates">Signal tokens x hidden size, in signal-token order.</param>
/// <param name="TokenStart">Completion index of the first signal token.</param>
/// <param name="TokenEnd">One past the completion index of the last signal token.</param>
public sealed record SignalItem(OutputModality Modality, float[] SignalHiddenStates, int TokenStart, int TokenEnd);
