using MmServe.Abstractions;

namespace MmServe.Engine.Tests.Fakes;

internal sealed class FakeModelOptions
{
    public int VocabSize { get; init; } = 32;

    public int MaxContext { get; init; } = 256;

    public int MaxBatchSize { get; init; } = 64;

    public int HiddenSize { get; init; } = 4;

    /// <summary>Its logit is pushed far down so the hash model never ends a sequence on its own; scripts can force it.</summary>
    public int EosTokenId { get; init; }

    /// <summary>Forces the next token given (all tokens so far, prompt length); null leaves the hash logits alone.</summary>
    public Func<IReadOnlyList<int>, int, int?>? Script { get; init; }

    /// <summary>When true for a batch, Forward throws before touching any state.</summary>
    public Func<IReadOnlyList<SequenceInput>, bool>? FailWhen { get; init; }

    /// <summary>Each Forward call waits for a permit from <see cref="FakeModelExecutor.AllowSteps"/>.</summary>
    public bool ManualStepping { get; init; }

    /// <summary>Set: an encoder-decoder model whose decoder takes encoder outputs this wide.</summary>
    public int? EncoderWidth { get; init; }

    /// <summary>Set: a gated cross-attention model taking <see cref="SequenceInput.CrossAttention"/> media within these limits.</summary>
    public CrossAttentionLimits? CrossAttention { get; init; }
}

/// <summary>One row of a recorded Forward call.</summary>
internal sealed record RecordedRow(long SequenceId, int StartPosition, int TokenCount, int MediaSpans, bool WantHiddenStates, SequencePositions? Positions = null, int EncoderLength = 0, int CrossItems = 0)
{
    /// <summary>The row's token types (visual-expert decoders), as the engine passed them.</summary>
    public SequenceTokenTypes? TokenTypes { get; init; }

    public bool IsPrefill => StartPosition == 0;
}

/// <summary>A Release call and how many Forward calls had been entered before it.</summary>
internal sealed record RecordedRelease(long SequenceId, int ForwardCallsBefore);

/// <summary>
/// Deterministic stand-in model. The logits of a sequence are a hash of its whole history (token ids, or the
/// embedding values where media replaced them), so the next token depends on the entire prefix and never on the
/// rest of the batch. It also checks the executor protocol (positions, prefill/decode shapes, released slots)
/// and records every call for assertions.
/// </summary>
internal sealed class FakeModelExecutor : IModelExecutor
{
    private const float SuppressedLogit = -20f;
    private const float ForcedLogit = 30f;

    private readonly FakeModelOptions _options;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, SequenceHistory> _live = [];
    private readonly List<IReadOnlyList<RecordedRow>> _steps = [];
    private readonly List<RecordedRelease> _released = [];
    private readonly List<string> _violations = [];
    private readonly SemaphoreSlim _stepPermits = new(0);
    private volatile bool _manualStepping;
    private int _forwardCalls;

    public FakeModelExecutor(FakeModelOptions? options = null)
    {
        _options = options ?? new FakeModelOptions();
        _manualStepping = _options.ManualStepping;
        Info = new ExecutorInfo(_options.VocabSize, _options.MaxContext, _options.MaxBatchSize, _options.HiddenSize)
        {
            EncoderWidth = _options.EncoderWidth,
            CrossAttention = _options.CrossAttention,
        };
    }

    public ExecutorInfo Info { get; }

    public bool IsDisposed { get; private set; }

    /// <summary>Forward calls entered (recorded before a manual-stepping wait).</summary>
    public int ForwardCalls => Volatile.Read(ref _forwardCalls);

    public IReadOnlyList<IReadOnlyList<RecordedRow>> Steps
    {
        get
        {
            lock (_gate)
            {
                return [.. _steps];
            }
        }
    }

    public IReadOnlyList<RecordedRelease> Released
    {
        get
        {
            lock (_gate)
            {
                return [.. _released];
            }
        }
    }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_gate)
            {
                return [.. _violations];
            }
        }
    }

    public int LiveSequences
    {
        get
        {
            lock (_gate)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>Sequences holding cross-attention state (an encoder output taken at their first step, not yet released).</summary>
    public int LiveEncoderStates
    {
        get
        {
            lock (_gate)
            {
                return _live.Values.Count(h => h.EncoderLength > 0);
            }
        }
    }

    /// <summary>Sequences holding cross-attention media (taken on their prefill row, not yet released).</summary>
    public int LiveCrossAttentionStates
    {
        get
        {
            lock (_gate)
            {
                return _live.Values.Count(h => h.CrossItems > 0);
            }
        }
    }

    public void AllowSteps(int count) => _stepPermits.Release(count);

    /// <summary>Stops waiting for permits (and unblocks a Forward that is waiting now).</summary>
    public void RunFreely()
    {
        _manualStepping = false;
        _stepPermits.Release();
    }

    public void Forward(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        lock (_gate)
        {
            _steps.Add([.. inputs.Select(i => new RecordedRow(i.SequenceId, i.StartPosition, i.TokenIds.Length, i.Media.Count, i.WantHiddenStates, i.Positions, i.Encoder?.Length ?? 0, i.CrossAttention?.Items ?? 0) { TokenTypes = i.TokenTypes })]);
            _forwardCalls++;
        }

        if (_manualStepping)
        {
            _stepPermits.Wait(ct);
        }

        ct.ThrowIfCancellationRequested();
        if (_options.FailWhen?.Invoke(inputs) == true)
        {
            throw new InvalidOperationException("Injected forward failure.");
        }

        lock (_gate)
        {
            if (output.RowCount != inputs.Count || output.VocabSize != Info.VocabSize)
            {
                _violations.Add($"Output sized for {output.RowCount} rows x {output.VocabSize}, batch has {inputs.Count}.");
            }

            for (int row = 0; row < inputs.Count; row++)
            {
                var history = Advance(inputs[row]);
                WriteLogits(history, output.GetLogits(row));
                if (inputs[row].WantHiddenStates)
                {
                    WriteHiddenStates(inputs[row], output.GetHiddenStates(row));
                }
            }

            if (_live.Count > Info.MaxBatchSize)
            {
                _violations.Add($"{_live.Count} live sequences exceed the batch limit {Info.MaxBatchSize}: slots were not released.");
            }
        }
    }

    public void Release(long sequenceId)
    {
        lock (_gate)
        {
            _live.Remove(sequenceId);
            _released.Add(new RecordedRelease(sequenceId, _forwardCalls));
        }
    }

    public void Dispose()
    {
        IsDisposed = true;
        _stepPermits.Release(1000);
    }

    /// <summary>The token the hash model puts first after <paramref name="tokens"/> (no script, no media).</summary>
    public static int GreedyNextToken(IReadOnlyList<int> tokens, FakeModelOptions options)
    {
        ulong hash = Seed;
        foreach (int token in tokens)
        {
            hash = Mix(hash, (ulong)token);
        }

        var logits = new float[options.VocabSize];
        FillHashLogits(hash, options.EosTokenId, logits);
        return Array.IndexOf(logits, logits.Max());
    }

    private SequenceHistory Advance(SequenceInput input)
    {
        var tokens = input.TokenIds.Span;
        SequenceHistory? history;
        if (input.StartPosition == 0)
        {
            if (_live.ContainsKey(input.SequenceId))
            {
                _violations.Add($"Sequence {input.SequenceId} was prefilled twice without a release.");
            }

            history = new SequenceHistory { PromptLength = tokens.Length, EncoderLength = input.Encoder?.Length ?? 0, CrossItems = input.CrossAttention?.Items ?? 0 };
            _live[input.SequenceId] = history;
            CheckEncoder(input);
            if (input.Encoder is { } encoder)
            {
                // The decoder attends to the encoder output: it conditions every later token, as cross-attention does.
                history.Hash = Mix(history.Hash, HashEmbeddingRow(encoder.HiddenStates.Span));
            }

            if (input.CrossAttention is { } cross)
            {
                if (Info.CrossAttention is null)
                {
                    _violations.Add($"Sequence {input.SequenceId}: cross-attention media reached a model without cross-attention.");
                }

                // Cross-attended media condition every later token; where the markers sit is part of the condition.
                history.Hash = Mix(history.Hash, HashEmbeddingRow(cross.Features.Span));
                foreach (int marker in cross.MarkerPositions)
                {
                    history.Hash = Mix(history.Hash, (ulong)marker);
                }
            }
        }
        else
        {
            if (!_live.TryGetValue(input.SequenceId, out history))
            {
                _violations.Add($"Sequence {input.SequenceId} decoded without a prefill.");
                history = new SequenceHistory();
                _live[input.SequenceId] = history;
            }

            if (input.Encoder is not null)
            {
                _violations.Add($"Sequence {input.SequenceId}: an encoder output was sent again at decode position {input.StartPosition}.");
            }

            if (input.CrossAttention is not null)
            {
                _violations.Add($"Sequence {input.SequenceId}: cross-attention media were sent again at decode position {input.StartPosition}.");
            }

            if (input.StartPosition != history.Tokens.Count || tokens.Length != 1 || input.Media.Count != 0)
            {
                _violations.Add($"Sequence {input.SequenceId}: decode at {input.StartPosition} with {tokens.Length} tokens, history {history.Tokens.Count}.");
            }
        }

        for (int i = 0; i < tokens.Length; i++)
        {
            int position = input.StartPosition + i;
            var media = input.Media.FirstOrDefault(m => position >= m.Start && position < m.Start + m.Length);
            ulong value = media is null
                ? (ulong)tokens[i]
                : HashEmbeddingRow(media.Embeddings.Span.Slice((position - media.Start) * Info.HiddenSize, Info.HiddenSize));
            history.Hash = Mix(history.Hash, value);
            history.Tokens.Add(tokens[i]);
        }

        if (history.Tokens.Count > Info.MaxContext)
        {
            _violations.Add($"Sequence {input.SequenceId} grew to {history.Tokens.Count} tokens, past the context {Info.MaxContext}.");
        }

        return history;
    }

    private void CheckEncoder(SequenceInput input)
    {
        if (Info.EncoderWidth is { } width)
        {
            if (input.Encoder is null)
            {
                _violations.Add($"Sequence {input.SequenceId}: first decoder step without its encoder output.");
            }
            else if (input.Encoder.Width != width)
            {
                _violations.Add($"Sequence {input.SequenceId}: encoder output {input.Encoder.Width} wide, expected {width}.");
            }
        }
        else if (input.Encoder is not null)
        {
            _violations.Add($"Sequence {input.SequenceId}: an encoder output reached a decoder-only model.");
        }
    }

    private void WriteLogits(SequenceHistory history, Span<float> logits)
    {
        FillHashLogits(history.Hash, _options.EosTokenId, logits);
        if (_options.Script?.Invoke(history.Tokens, history.PromptLength) is { } forced)
        {
            logits[forced] = ForcedLogit;
        }
    }

    private void WriteHiddenStates(SequenceInput input, Span<float> hidden)
    {
        int width = Info.HiddenSize;
        for (int t = 0; t < input.TokenIds.Length; t++)
        {
            for (int j = 0; j < width; j++)
            {
                hidden[t * width + j] = (input.StartPosition + t) * 10 + j;
            }
        }
    }

    private static void FillHashLogits(ulong hash, int eosTokenId, Span<float> logits)
    {
        for (int v = 0; v < logits.Length; v++)
        {
            ulong bits = SplitMix(hash ^ ((ulong)v * 0xD1B54A32D192ED03UL));
            logits[v] = (float)((bits >> 40) / (double)(1UL << 24) * 8.0 - 4.0);
        }

        if ((uint)eosTokenId < (uint)logits.Length)
        {
            logits[eosTokenId] = SuppressedLogit;
        }
    }

    private static ulong HashEmbeddingRow(ReadOnlySpan<float> row)
    {
        ulong hash = 0x5EED;
        foreach (float value in row)
        {
            hash = Mix(hash, (ulong)BitConverter.SingleToUInt32Bits(value));
        }

        // Keep media values apart from token ids.
        return hash | (1UL << 63);
    }

    private const ulong Seed = 0x243F6A8885A308D3UL;

    private static ulong Mix(ulong hash, ulong value) => SplitMix(hash ^ (value + 0x9E3779B97F4A7C15UL + (hash << 6) + (hash >> 2)));

    private static ulong SplitMix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private sealed class SequenceHistory
    {
        public List<int> Tokens { get; } = [];

        public ulong Hash { get; set; } = Seed;

        public int PromptLength { get; init; }

        public int EncoderLength { get; init; }

        public int CrossItems { get; init; }
    }
}

internal sealed class FakeExecutorFactory(Func<int, FakeModelOptions> options) : IModelExecutorFactory
{
    private readonly List<FakeModelExecutor> _created = [];

    public FakeExecutorFactory(FakeModelOptions options)
        : this(_ => options)
    {
    }

    public IReadOnlyList<FakeModelExecutor> Created => _created;

    public List<int> RequestedWorkerIndexes { get; } = [];

    public IModelExecutor Create(int workerIndex)
    {
        RequestedWorkerIndexes.Add(workerIndex);
        var executor = new FakeModelExecutor(options(workerIndex));
        _created.Add(executor);
        return executor;
    }
}
