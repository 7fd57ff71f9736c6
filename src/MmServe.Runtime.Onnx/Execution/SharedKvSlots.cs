using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// The KV cache of a shared-buffer decoder (GroupQueryAttention with past_present_share_buffer): per layer and
/// key/value one [max_batch, kv_heads, max_length, head_dim] array, allocated once. A sequence holds one batch row (a
/// slot) from its prefill to its release; its KV sits left-aligned in that row and ONNX Runtime appends to it in
/// place, so no step copies KV and no join or leave repacks the batch. A run binds the first <c>n</c> rows (or, for
/// a prefill, a contiguous range of rows) as both past and present. New sequences take the lowest free slot, so the
/// holes finished sequences leave are filled first; <see cref="Compact"/> closes holes only when the batch has
/// thinned out so much that running them would cost more than moving a few sequences.
/// </summary>
internal sealed class SharedKvSlots
{
    private const long Free = -1;
    private readonly float[][] _tensors;
    private readonly long[] _owner;
    private readonly int[] _length;
    private readonly Dictionary<long, int> _slotOf = [];
    private readonly int _kvHeads;
    private readonly int _headDim;

    public SharedKvSlots(int tensors, int maxBatch, int kvHeads, int maxLength, int headDim)
    {
        _kvHeads = kvHeads;
        _headDim = headDim;
        MaxLength = maxLength;
        _owner = new long[maxBatch];
        Array.Fill(_owner, Free);
        _length = new int[maxBatch];
        _tensors = new float[tensors][];
        int rowElements = checked(kvHeads * maxLength * headDim);
        for (int t = 0; t < tensors; t++)
        {
            _tensors[t] = new float[checked(maxBatch * rowElements)];
        }
    }

    /// <summary>Positions each slot holds: the decoder's context.</summary>
    public int MaxLength { get; }

    public int Capacity => _owner.Length;

    /// <summary>Sequences holding a slot.</summary>
    public int Held => _slotOf.Count;

    /// <summary>One past the highest held slot: the batch a decode step runs.</summary>
    public int Span { get; private set; }

    /// <summary>Slot moves made by <see cref="Compact"/> since creation (each copies one sequence's KV).</summary>
    public long Moves { get; private set; }

    public bool TryGetSlot(long sequenceId, out int slot) => _slotOf.TryGetValue(sequenceId, out slot);

    /// <summary>The sequence in <paramref name="slot"/>, or null for a free slot.</summary>
    public long? OwnerOf(int slot) => _owner[slot] == Free ? null : _owner[slot];

    public int LengthOf(int slot) => _length[slot];

    public void SetLength(int slot, int length) => _length[slot] = length;

    /// <summary>Gives <paramref name="sequenceId"/> the lowest free slot.</summary>
    /// <exception cref="InvalidOperationException">Every slot is held (the engine runs at most max_batch sequences).</exception>
    public int Acquire(long sequenceId)
    {
        int slot = Array.IndexOf(_owner, Free);
        if (slot < 0)
        {
            throw new InvalidOperationException($"sequence {sequenceId}: all {Capacity} KV slots are held");
        }

        _owner[slot] = sequenceId;
        _length[slot] = 0;
        _slotOf[sequenceId] = slot;
        Span = Math.Max(Span, slot + 1);
        return slot;
    }

    /// <summary>Frees the sequence's slot; its KV stays in place until a new sequence overwrites it.</summary>
    public bool Release(long sequenceId)
    {
        if (!_slotOf.Remove(sequenceId, out int slot))
        {
            return false;
        }

        _owner[slot] = Free;
        _length[slot] = 0;
        ShrinkSpan();
        return true;
    }

    private void ShrinkSpan()
    {
        while (Span > 0 && _owner[Span - 1] == Free)
        {
            Span--;
        }
    }

    /// <summary>
    /// Moves the highest sequences into lower holes while the holes outnumber a quarter of the held sequences (at
    /// least 2): a decode step computes every row below <see cref="Span"/>, so after a wave of finishes a few copies
    /// (each one sequence's KV, its length only) are cheaper than running empty rows every step from then on.
    /// </summary>
    public void Compact()
    {
        while (Span - Held > Math.Max(2, Held / 4))
        {
            int hole = Array.IndexOf(_owner, Free);
            int from = Span - 1;
            Move(from, hole);
        }
    }

    /// <summary>An OrtValue of shape [count, kv_heads, max_length, head_dim] over rows [first, first + count) of tensor <paramref name="tensor"/>.</summary>
    public OrtValue View(int tensor, int first, int count)
    {
        int row = _kvHeads * MaxLength * _headDim;
        return OrtValue.CreateTensorValueFromMemory(
            OrtMemoryInfo.DefaultInstance, _tensors[tensor].AsMemory(first * row, count * row), [count, _kvHeads, MaxLength, _headDim]);
    }

    private void Move(int from, int to)
    {
        long id = _owner[from];
        int length = _length[from];
        int row = _kvHeads * MaxLength * _headDim;
        foreach (var tensor in _tensors)
        {
            for (int h = 0; h < _kvHeads; h++)
            {
                int head = h * MaxLength * _headDim;
                tensor.AsSpan((from * row) + head, length * _headDim).CopyTo(tensor.AsSpan((to * row) + head));
            }
        }

        _owner[to] = id;
        _length[to] = length;
        _slotOf[id] = to;
        _owner[from] = Free;
        _length[from] = 0;
        ShrinkSpan();
        Moves++;
    }
}
