namespace MmServe.Engine.Sampling;

/// <summary>
/// PCG-XSH-RR 32-bit generator (O'Neill, pcg-random.org). Owned here rather than System.Random so that a seeded
/// request reproduces the same tokens on every .NET version and platform.
/// </summary>
internal struct Pcg32
{
    private const ulong Multiplier = 6364136223846793005UL;
    private const ulong DefaultStream = 0xDA3E39CB94B95BDBUL;

    private ulong _state;
    private readonly ulong _increment;

    public Pcg32(ulong seed, ulong stream = DefaultStream)
    {
        _state = 0;
        _increment = (stream << 1) | 1UL;
        NextUInt32();
        _state += seed;
        NextUInt32();
    }

    public uint NextUInt32()
    {
        ulong old = _state;
        _state = unchecked(old * Multiplier + _increment);
        uint xorShifted = (uint)(((old >> 18) ^ old) >> 27);
        int rotation = (int)(old >> 59);
        return (xorShifted >> rotation) | (xorShifted << (-rotation & 31));
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble()
    {
        ulong high = NextUInt32() >> 5;
        ulong low = NextUInt32() >> 6;
        return ((high << 26) | low) * (1.0 / (1UL << 53));
    }
}
