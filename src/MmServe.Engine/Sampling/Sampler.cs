using MmServe.Abstractions;

namespace MmServe.Engine.Sampling;

internal readonly record struct SampledToken(int TokenId, TokenLogprob? Logprob);

/// <summary>
/// Picks the next token of one row from its logits. One instance per worker owns scratch buffers that only
/// grow; all randomness comes from the row's own <see cref="SamplerState"/>, so a row's result never depends on
/// the other rows of the batch.
/// </summary>
internal sealed class Sampler
{
    /// <summary>Below this, temperature scaling would overflow; such requests are decoded greedily (as vLLM does).</summary>
    internal const float GreedyTemperatureEpsilon = 1e-5f;

    /// <summary>Floor of reported logprobs: impossible tokens would be -Infinity, which JSON cannot carry (OpenAI uses -9999 too).</summary>
    internal const float MinLogprob = -9999f;

    // Top-k up to this size uses a linear selection; larger k falls back to a full sort.
    private const int SelectionLimit = 64;

    private float[] _ranked = [];
    private double[] _weights = [];
    private int[] _ids = [];

    /// <summary>
    /// Samples one token. Penalties are applied to <paramref name="logits"/> in place. Logprobs are reported from
    /// the penalised distribution before temperature/top-k/top-p, as OpenAI does.
    /// </summary>
    public SampledToken Sample(Span<float> logits, SamplerState state)
    {
        var parameters = state.Parameters;
        ApplyPenalties(logits, state);

        int tokenId = parameters.Temperature < GreedyTemperatureEpsilon
            ? TokenRanking.ArgMax(logits)
            : SampleStochastic(logits, parameters, state);

        var logprob = parameters.Logprobs ? ComputeLogprob(logits, tokenId, parameters.TopLogprobs) : null;
        state.RecordGenerated(tokenId);
        return new SampledToken(tokenId, logprob);
    }

    /// <summary>OpenAI semantics: logit -= presence * (count &gt; 0) + frequency * count, over generated tokens only.</summary>
    private static void ApplyPenalties(Span<float> logits, SamplerState state)
    {
        if (state.GeneratedCounts is not { Count: > 0 } counts)
        {
            return;
        }

        float presence = state.Parameters.PresencePenalty;
        float frequency = state.Parameters.FrequencyPenalty;
        foreach (var (tokenId, count) in counts)
        {
            if ((uint)tokenId < (uint)logits.Length)
            {
                logits[tokenId] -= presence + frequency * count;
            }
        }
    }

    private int SampleStochastic(ReadOnlySpan<float> logits, SamplingParams parameters, SamplerState state)
    {
        int vocab = logits.Length;
        EnsureScratch(vocab);
        int k = parameters.TopK > 0 && parameters.TopK < vocab ? parameters.TopK : vocab;
        Span<int> candidates = _ids.AsSpan(0, vocab);

        if (k == vocab && parameters.TopP >= 1f)
        {
            // Plain softmax sampling needs no ordering; id order is as deterministic as any.
            for (int i = 0; i < vocab; i++)
            {
                candidates[i] = i;
            }
        }
        else if (k <= SelectionLimit)
        {
            candidates = candidates[..k];
            TokenRanking.SelectTop(logits, candidates);
        }
        else
        {
            logits.CopyTo(_ranked);
            TokenRanking.SortAll(_ranked, candidates[..vocab]);
            candidates = candidates[..k];
        }

        float max = float.NegativeInfinity;
        foreach (int id in candidates)
        {
            if (logits[id] > max)
            {
                max = logits[id];
            }
        }

        if (float.IsNegativeInfinity(max))
        {
            return TokenRanking.ArgMax(logits);
        }

        double inverseTemperature = 1.0 / parameters.Temperature;
        Span<double> weights = _weights.AsSpan(0, candidates.Length);
        double total = 0;
        for (int i = 0; i < candidates.Length; i++)
        {
            float logit = logits[candidates[i]];
            double weight = float.IsNaN(logit) ? 0 : Math.Exp((logit - max) * inverseTemperature);
            weights[i] = weight;
            total += weight;
        }

        if (parameters.TopP < 1f)
        {
            // Candidates are sorted here. Keep the smallest prefix whose mass reaches top_p (at least one token).
            double threshold = parameters.TopP * total;
            double kept = 0;
            int count = 0;
            while (count < candidates.Length)
            {
                kept += weights[count++];
                if (kept >= threshold)
                {
                    break;
                }
            }

            candidates = candidates[..count];
            weights = weights[..count];
            total = kept;
        }

        double target = state.NextDouble() * total;
        double cumulative = 0;
        int last = candidates[0];
        for (int i = 0; i < candidates.Length; i++)
        {
            if (weights[i] <= 0)
            {
                continue;
            }

            cumulative += weights[i];
            last = candidates[i];
            if (target < cumulative)
            {
                return last;
            }
        }

        // Rounding can leave the target at the very end of the mass.
        return last;
    }

    private TokenLogprob ComputeLogprob(ReadOnlySpan<float> logits, int tokenId, int topCount)
    {
        float max = logits[TokenRanking.ArgMax(logits)];
        double sum = 0;
        foreach (float logit in logits)
        {
            if (!float.IsNaN(logit))
            {
                sum += Math.Exp(logit - max);
            }
        }

        double logNormalizer = max + Math.Log(sum);
        var top = Array.Empty<TopLogprob>();
        if (topCount > 0)
        {
            EnsureScratch(logits.Length);
            Span<int> ids = _ids.AsSpan(0, Math.Min(topCount, logits.Length));
            TokenRanking.SelectTop(logits, ids);
            top = new TopLogprob[ids.Length];
            for (int i = 0; i < ids.Length; i++)
            {
                top[i] = new TopLogprob(ids[i], ToReportedLogprob(logits[ids[i]] - logNormalizer));
            }
        }

        return new TokenLogprob(tokenId, ToReportedLogprob(logits[tokenId] - logNormalizer), top);
    }

    private static float ToReportedLogprob(double logprob) => double.IsNaN(logprob) ? MinLogprob : (float)Math.Max(logprob, MinLogprob);

    private void EnsureScratch(int vocab)
    {
        if (_ids.Length < vocab)
        {
            _ids = new int[vocab];
            _weights = new double[vocab];
            _ranked = new float[vocab];
        }
    }
}
