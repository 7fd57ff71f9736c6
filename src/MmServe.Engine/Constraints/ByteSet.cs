namespace MmServe.Engine.Constraints;

/// <summary>An immutable set of byte values (256 bits), the terminal symbol of a <see cref="Grammar"/>.</summary>
public readonly record struct ByteSet(ulong W0, ulong W1, ulong W2, ulong W3)
{
    public static ByteSet Of(byte value) => Range(value, value);

    /// <summary>Every byte from <paramref name="first"/> to <paramref name="last"/>, both included.</summary>
    public static ByteSet Range(byte first, byte last)
    {
        Span<ulong> words = stackalloc ulong[4];
        for (int b = first; b <= last; b++)
        {
            words[b >> 6] |= 1UL << (b & 63);
        }

        return new ByteSet(words[0], words[1], words[2], words[3]);
    }

    public ByteSet Union(ByteSet other) => new(W0 | other.W0, W1 | other.W1, W2 | other.W2, W3 | other.W3);

    public ByteSet Except(ByteSet other) => new(W0 & ~other.W0, W1 & ~other.W1, W2 & ~other.W2, W3 & ~other.W3);

    public bool Contains(byte value)
    {
        ulong word = (value >> 6) switch { 0 => W0, 1 => W1, 2 => W2, _ => W3 };
        return (word & (1UL << (value & 63))) != 0;
    }
}
