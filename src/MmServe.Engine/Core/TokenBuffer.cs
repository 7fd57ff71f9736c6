namespace MmServe.Engine.Core;

/// <summary>
/// A sequence's tokens (prompt, then generated). Sized up front for prompt + max new tokens, so appending
/// never reallocates, and <see cref="Slice"/> hands the executor views without copying.
/// </summary>
internal sealed class TokenBuffer
{
    private int[] _items;

    public TokenBuffer(ReadOnlySpan<int> initial, int capacity)
    {
        _items = new int[Math.Max(Math.Max(capacity, initial.Length), 1)];
        initial.CopyTo(_items);
        Count = initial.Length;
    }

    public int Count { get; private set; }

    public int this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return _items[index];
        }
    }

    public void Add(int tokenId)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = tokenId;
    }

    public ReadOnlyMemory<int> Slice(int start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)start + (uint)length, (uint)Count, nameof(length));
        return _items.AsMemory(start, length);
    }

    public ReadOnlySpan<int> AsSpan() => _items.AsSpan(0, Count);
}
