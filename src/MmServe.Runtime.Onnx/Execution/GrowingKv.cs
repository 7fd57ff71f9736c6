using System.Buffers;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// One sequence's KV for decoders that concatenate past and new KV (the cross-attention and encoder-decoder
/// executors): per tensor [heads, Capacity, head_dim], the first <see cref="Length"/> slots real. The arrays double
/// as the sequence grows (up to <c>maxSlots</c>), come from the executor's pool and go back to it on growth and on
/// <see cref="Release"/>, so a step copies only its new slots in and a worker whose sequences come and go stops
/// allocating. Not thread-safe.
/// </summary>
internal sealed class GrowingKv(int tensors, int heads, int headDim, int maxSlots, ArrayPool<float> pool)
{
    private readonly float[][] _tensors = [.. Enumerable.Range(0, tensors).Select(_ => Array.Empty<float>())];

    public int Capacity { get; private set; }

    public int Length { get; private set; }

    /// <summary>Makes room for <paramref name="newSlots"/> more slots, keeping the first Length.</summary>
    public void Reserve(int newSlots)
    {
        int slots = Length + newSlots;
        if (slots <= Capacity)
        {
            return;
        }

        int capacity = Math.Max(slots, Math.Min(Math.Max(2 * Capacity, 32), maxSlots));
        for (int t = 0; t < _tensors.Length; t++)
        {
            var grown = pool.Rent(heads * capacity * headDim);
            for (int h = 0; h < heads && Length > 0; h++)
            {
                _tensors[t].AsSpan(h * Capacity * headDim, Length * headDim).CopyTo(grown.AsSpan(h * capacity * headDim));
            }

            Return(_tensors[t]);
            _tensors[t] = grown;
        }

        Capacity = capacity;
    }

    /// <summary>
    /// Copies the last <paramref name="newSlots"/> slots of row <paramref name="row"/> of a present tensor
    /// [batch, heads, <paramref name="presentSlots"/>, head_dim] after this tensor's Length (room made by <see cref="Reserve"/>).
    /// </summary>
    public void Append(int tensor, ReadOnlySpan<float> present, int row, int presentSlots, int newSlots)
    {
        for (int h = 0; h < heads; h++)
        {
            present.Slice(((((row * heads) + h) * presentSlots) + presentSlots - newSlots) * headDim, newSlots * headDim)
                .CopyTo(_tensors[tensor].AsSpan(((h * Capacity) + Length) * headDim));
        }
    }

    /// <summary>Counts the slots every tensor got from <see cref="Append"/>.</summary>
    public void Commit(int newSlots) => Length += newSlots;

    /// <summary>Writes the Length slots right-aligned into row <paramref name="row"/> of a batch tensor [batch, heads, <paramref name="slots"/>, head_dim].</summary>
    public void CopyInto(int tensor, Span<float> batch, int row, int slots)
    {
        for (int h = 0; h < heads && Length > 0; h++)
        {
            _tensors[tensor].AsSpan(h * Capacity * headDim, Length * headDim)
                .CopyTo(batch[(((((row * heads) + h) * slots) + slots - Length) * headDim)..]);
        }
    }

    /// <summary>Gives the arrays back to the pool; the KV is empty afterwards.</summary>
    public void Release()
    {
        for (int t = 0; t < _tensors.Length; t++)
        {
            Return(_tensors[t]);
            _tensors[t] = [];
        }

        Capacity = 0;
        Length = 0;
    }

    private void Return(float[] array)
    {
        if (array.Length > 0)
        {
            pool.Return(array);
        }
    }
}
