using MmServe.Abstractions;

namespace MmServe.Engine.Sampling;

/// <summary>
/// Per-request sampling state: its own random generator (never shared, so a seeded request gives the same tokens
/// whatever else is in the batch) and the counts of generated tokens that the penalties need.
/// </summary>
internal sealed class SamplerState
{
    private readonly Dictionary<int, int>? _generatedCounts;
    private Pcg32 _random;

    public SamplerState(SamplingParams parameters)
    {
        Parameters = parameters;
        _random = new Pcg32(unchecked((ulong)(parameters.Seed ?? Random.Shared.NextInt64())));
        if (parameters.PresencePenalty != 0f || parameters.FrequencyPenalty != 0f)
        {
            _generatedCounts = [];
        }
    }

    public SamplingParams Parameters { get; }

    /// <summary>Generated token id → times generated; null when no penalty is set.</summary>
    public IReadOnlyDictionary<int, int>? GeneratedCounts => _generatedCounts;

    public double NextDouble() => _random.NextDouble();

    public void RecordGenerated(int tokenId)
    {
        if (_generatedCounts is not null)
        {
            _generatedCounts[tokenId] = _generatedCounts.GetValueOrDefault(tokenId) + 1;
        }
    }
}
