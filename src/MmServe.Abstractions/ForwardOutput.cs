namespace MmServe.Abstractions;

/// <summary>
/// Reusable result buffers of <see cref="IModelExecutor.Forward"/>. Buffers only grow, so a steady-state step loop
/// allocates nothing here; rows are views into them and stay valid until the next <see cref="Prepare"/>.
/// </summary>
public sealed class ForwardOutput
{
    private float[] _logits = [];
    private float[] _hiddenStates = [];
    private int[] _hiddenOffsets = [];
    private int[] _hiddenLengths = [];

    /// <summary>Rows in the current batch (one per <see cref="SequenceInput"/>).</summary>
    public int RowCount { get; private set; }

    public int VocabSize { get; private set; }

    public int HiddenSize { get; private set; }

    /// <summary>Sizes the buffers for <paramref name="inputs"/> and zeroes the logits rows.</summary>
    public void Prepare(IReadOnlyList<SequenceInput> inputs, int vocabSize, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);

        int rows = inputs.Count;
        RowCount = rows;
        VocabSize = vocabSize;
        HiddenSize = hiddenSize;

        EnsureCapacity(ref _logits, checked(rows * vocabSize));
        EnsureCapacity(ref _hiddenOffsets, rows);
        EnsureCapacity(ref _hiddenLengths, rows);

        int hiddenTotal = 0;
        for (int r = 0; r < rows; r++)
        {
            int length = inputs[r].WantHiddenStates ? checked(inputs[r].TokenIds.Length * hiddenSize) : 0;
            _hiddenOffsets[r] = hiddenTotal;
            _hiddenLengths[r] = length;
            hiddenTotal = checked(hiddenTotal + length);
        }

        EnsureCapacity(ref _hiddenStates, hiddenTotal);

        // Stale logits from a previous step must never be sampled if an executor skips a row.
        Array.Clear(_logits, 0, rows * vocabSize);
    }

    /// <summary>Logits at the last new token of row <paramref name="row"/> (VocabSize floats).</summary>
    public Span<float> GetLogits(int row)
    {
        CheckRow(row);
        return _logits.AsSpan(row * VocabSize, VocabSize);
    }

    /// <summary>Final hidden states of all new tokens of row <paramref name="row"/> (tokens x HiddenSize); empty unless requested.</summary>
    public Span<float> GetHiddenStates(int row)
    {
        CheckRow(row);
        return _hiddenStates.AsSpan(_hiddenOffsets[row], _hiddenLengths[row]);
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"The batch has {RowCount} rows.");
        }
    }

    private static void EnsureCapacity<T>(ref T[] buffer, int needed)
    {
        if (buffer.Length < needed)
        {
            // Doubling keeps regrowth rare when batch shapes creep upwards.
            buffer = new T[Math.Max(needed, buffer.Length * 2)];
        }
    }
}
