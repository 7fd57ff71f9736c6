using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;
using static MmServe.Runtime.Onnx.Execution.ScratchTensors;

namespace MmServe.Runtime.Onnx.CrossAttention;

/// <summary>
/// Runs a gated cross-attention bundle (manifest "cross_attention"; Flamingo, OpenFlamingo, IDEFICS) for one engine
/// worker, owning each sequence's self-attention KV and cross-attention KV.
///
/// A sequence's prefill row carries its media (<see cref="SequenceInput.CrossAttention"/>): the cross_kv component
/// turns them into every block's key and value once, in that step, and the executor keeps them with the sequence
/// until <see cref="Release"/>. Each decoder run then stacks the rows' cross KV into [batch, heads, media_tokens,
/// head_dim], zero-padded to the longest row (rows carry different item counts, or none), and builds media_mask
/// [batch, sequence, media_tokens]: a position sees the media tokens of the most recent item whose marker is at or
/// before it (<see cref="CrossAttentionMedia.ItemAt"/>); padded media tokens are never seen.
///
/// Batching as the reference recipe decodes: decode rows run together with their pasts left-padded to the longest
/// (attention_mask marks real slots, position_ids carry each row's own positions); new prompts run together in a
/// second, left-padded run. Host memory only.
///
/// Memory: a sequence keeps its self KV in arrays of [kv_heads, capacity, head_dim] per tensor, doubling as it grows,
/// rented from the executor's array pool and returned on release, and a step appends only its new slots from the
/// present outputs. Each run's inputs are written into grow-only scratch arrays, and the stacked cross KV of the
/// decode batch is reused while the batch's rows stay the same. So a decode step allocates no managed memory
/// proportional to the context or the media (it still copies the rows' pasts into the batch tensors: the decoder
/// concatenates past and new KV).
/// Not thread-safe: one worker thread calls it.
/// </summary>
public sealed class OnnxCrossAttentionExecutor : IModelExecutor
{
    private readonly InferenceSession _embed;
    private readonly InferenceSession _decoder;
    private readonly InferenceSession _crossKv;
    private readonly bool _ownsSessions;
    private readonly EmbeddingSpec _embedding;
    private readonly DecoderSpec _spec;
    private readonly CrossAttentionSpec _cross;
    private readonly RunOptions _runOptions = new();
    private readonly Dictionary<long, SequenceState> _live = [];
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly string[] _crossKvOutputs;
    private readonly bool _hasHiddenOutput;
    private readonly List<int> _prefillRows = [];
    private readonly List<int> _decodeRows = [];

    // Scratch of one decoder run, grown as needed and reused (contents are rewritten every run).
    private readonly List<OrtValue> _values = [];
    private readonly float[][] _pastBatch;
    private readonly float[][] _crossBatch;
    private long[] _ids = [];
    private long[] _mask = [];
    private long[] _positions = [];
    private long[] _mediaMask = [];
    private float[] _embeds = [];

    // The rows (sequence ids, in order) and media width whose cross KV _crossBatch holds; empty when it holds none.
    private readonly List<long> _crossBatchRows = [];
    private int _crossBatchTokens;

    // The sequences' self-KV arrays: rented on growth, returned on growth and release. Each size keeps enough arrays for
    // a full batch (so at most about twice a full batch's KV is held), and a long-running worker reaches a steady state
    // where new sequences allocate no KV arrays.
    private readonly ArrayPool<float> _kvPool;

    /// <exception cref="BundleValidationException">The sessions do not match the manifest.</exception>
    public OnnxCrossAttentionExecutor(
        ModelBundle bundle, InferenceSession embed, InferenceSession decoder, InferenceSession crossKv, int maxBatchSize, bool ownsSessions = true)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSize);
        var manifest = bundle.Manifest;
        _cross = manifest.CrossAttention ?? throw new ArgumentException("The bundle has no cross_attention section.", nameof(bundle));
        _embedding = manifest.Embedding ?? throw new ArgumentException("A cross-attention bundle needs its embedding component.", nameof(bundle));
        _spec = manifest.Decoder;
        _embed = embed;
        _decoder = decoder;
        _crossKv = crossKv;
        _ownsSessions = ownsSessions;
        CrossAttentionContract.Check(bundle, decoder, crossKv);
        _hasHiddenOutput = _spec.HiddenStates is not null;

        var inputs = new List<string> { _spec.InputsEmbeds, _spec.AttentionMask, _spec.PositionIds, _cross.MediaMask };
        var outputs = new List<string> { _spec.Logits };
        if (_hasHiddenOutput)
        {
            outputs.Add(_spec.HiddenStates!);
        }

        _spec.AddKvNames(inputs, outputs);

        var crossOutputs = new List<string>();
        for (int block = 0; block < _cross.NumBlocks; block++)
        {
            crossOutputs.Add(_cross.KeyName(block));
            crossOutputs.Add(_cross.ValueName(block));
        }

        inputs.AddRange(crossOutputs);
        _inputNames = [.. inputs];
        _outputNames = [.. outputs];
        _crossKvOutputs = [.. crossOutputs];
        _pastBatch = [.. Enumerable.Range(0, 2 * _spec.NumLayers).Select(_ => Array.Empty<float>())];
        _kvPool = ArrayPool<float>.Create(_spec.NumKvHeads * manifest.MaxContext * _spec.HeadDim, maxBatchSize * 2 * _spec.NumLayers * 2);
        _crossBatch = [.. _crossKvOutputs.Select(_ => Array.Empty<float>())];
        Info = new ExecutorInfo(_spec.VocabSize, manifest.MaxContext, maxBatchSize, _spec.HiddenSize)
        {
            CrossAttention = new CrossAttentionLimits(_cross.MediaTokensPerItem, _spec.HiddenSize, _cross.MaxItems),
        };
    }

    public ExecutorInfo Info { get; }

    /// <summary>Sequences holding KV now.</summary>
    public int LiveSequences => _live.Count;

    /// <summary>Sequences holding a cross-attention KV now (those with media).</summary>
    public int HeldCrossKv => _live.Values.Count(s => s.Cross is not null);

    /// <summary>Runs of the cross_kv component so far: one per sequence with media, on its prefill.</summary>
    public long CrossKvRuns { get; private set; }

    public void Forward(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(output);
        _prefillRows.Clear();
        _decodeRows.Clear();
        for (int r = 0; r < inputs.Count; r++)
        {
            var input = inputs[r];
            if (input.StartPosition == 0)
            {
                _prefillRows.Add(r);
            }
            else if (!_live.TryGetValue(input.SequenceId, out var state) || state.Kv.Length != input.StartPosition || input.TokenIds.Length != 1)
            {
                throw new InvalidOperationException($"Sequence {input.SequenceId}: a decode step at {input.StartPosition} without matching KV state.");
            }
            else
            {
                _decodeRows.Add(r);
            }
        }

        using var cancel = ct.Register(static o => ((RunOptions)o!).Terminate = true, _runOptions);
        try
        {
            if (_decodeRows.Count > 0)
            {
                Run(_decodeRows, inputs, output, prefill: false);
            }

            if (_prefillRows.Count > 0)
            {
                ct.ThrowIfCancellationRequested();
                foreach (int r in _prefillRows)
                {
                    _live[inputs[r].SequenceId] = NewState(inputs[r]);
                }

                Run(_prefillRows, inputs, output, prefill: true);
            }
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
        finally
        {
            _runOptions.Terminate = false;
        }
    }

    public void Release(long sequenceId)
    {
        if (_live.Remove(sequenceId, out var state))
        {
            state.Kv.Release();
        }

        if (_crossBatchRows.Contains(sequenceId))
        {
            _crossBatchRows.Clear(); // its cross KV must not be reused for whatever comes next
        }
    }

    public void Dispose()
    {
        foreach (var state in _live.Values)
        {
            state.Kv.Release();
        }

        _live.Clear();
        _runOptions.Dispose();
        if (_ownsSessions)
        {
            _embed.Dispose();
            _decoder.Dispose();
            _crossKv.Dispose();
        }
    }

    private GrowingKv NewKv() => new(2 * _spec.NumLayers, _spec.NumKvHeads, _spec.HeadDim, Info.MaxContext, _kvPool);

    /// <summary>A new sequence's state, with its cross KV computed now (the one cross_kv run of its life).</summary>
    private SequenceState NewState(SequenceInput input)
    {
        if (input.CrossAttention is not { } media)
        {
            return new SequenceState(NewKv(), null, null);
        }

        if (media.Width != _spec.HiddenSize || media.TokensPerItem != _cross.MediaTokensPerItem || media.Items > _cross.MaxItems)
        {
            throw new ArgumentException(
                $"Sequence {input.SequenceId}: {media.Items} media items of {media.TokensPerItem} x {media.Width}; the model takes at most {_cross.MaxItems} of {_cross.MediaTokensPerItem} x {_spec.HiddenSize}.",
                nameof(input));
        }

        using var features = OrtValue.CreateTensorValueFromMemory(media.Features.ToArray(), [1, media.MediaTokens, media.Width]);
        using var results = _crossKv.Run(_runOptions, [_cross.MediaFeatures], [features], _crossKvOutputs);
        CrossKvRuns++;
        var kv = new float[_crossKvOutputs.Length][];
        for (int t = 0; t < kv.Length; t++)
        {
            kv[t] = results[t].GetTensorDataAsSpan<float>().ToArray(); // [1, heads, media_tokens, head_dim]
        }

        return new SequenceState(NewKv(), media, kv);
    }

    private void Run(List<int> rows, IReadOnlyList<SequenceInput> inputs, ForwardOutput output, bool prefill)
    {
        int batch = rows.Count;
        int step = 1, past = 0, mediaTokens = 1;
        foreach (int r in rows)
        {
            var state = _live[inputs[r].SequenceId];
            step = prefill ? Math.Max(step, inputs[r].TokenIds.Length) : 1;
            past = prefill ? 0 : Math.Max(past, state.Kv.Length);
            mediaTokens = Math.Max(mediaTokens, state.Media?.MediaTokens ?? 0);
        }

        int total = past + step;
        int kvHeads = _spec.NumKvHeads;
        int headDim = _spec.HeadDim;

        var ids = Cleared(ref _ids, batch * step);
        var mask = Cleared(ref _mask, batch * total);
        var positions = Cleared(ref _positions, batch * step);
        var mediaMask = Cleared(ref _mediaMask, batch * step * mediaTokens);
        for (int b = 0; b < batch; b++)
        {
            var input = inputs[rows[b]];
            var state = _live[input.SequenceId];
            int n = input.TokenIds.Length;
            int length = state.Kv.Length;

            // Left padding: the row's past fills the last `length` of the `past` slots, its new tokens the last n of `step`.
            mask.Slice((b * total) + past - length, length).Fill(1);
            mask.Slice((b * total) + past + step - n, n).Fill(1);
            for (int t = 0; t < n; t++)
            {
                int slot = (b * step) + step - n + t;
                int position = input.StartPosition + t;
                ids[slot] = input.TokenIds.Span[t];
                positions[slot] = position;
                if (state.Media is { } media && media.ItemAt(position) is var item and >= 0)
                {
                    mediaMask.Slice((slot * mediaTokens) + (item * media.TokensPerItem), media.TokensPerItem).Fill(1);
                }
            }
        }

        try
        {
            _values.Add(View(Embed(batch, step), [batch, step, _spec.HiddenSize]));
            _values.Add(View(_mask, [batch, total]));
            _values.Add(View(_positions, [batch, step]));
            _values.Add(View(_mediaMask, [batch, step, mediaTokens]));
            for (int t = 0; t < 2 * _spec.NumLayers; t++)
            {
                _values.Add(View(GatherPast(rows, inputs, t, past), [batch, kvHeads, past, headDim]));
            }

            bool crossReady = !prefill && HoldsCrossOf(rows, inputs, mediaTokens);
            for (int t = 0; t < _crossKvOutputs.Length; t++)
            {
                var cross = crossReady ? _crossBatch[t] : GatherCross(rows, inputs, t, mediaTokens);
                _values.Add(View(cross, [batch, _cross.NumHeads, mediaTokens, _cross.HeadDim]));
            }

            RememberCrossRows(rows, inputs, mediaTokens, keep: !prefill);
            using var results = _decoder.Run(_runOptions, _inputNames, _values, _outputNames);
            Scatter(rows, inputs, output, results, step, total);
        }
        finally
        {
            foreach (var value in _values)
            {
                value.Dispose();
            }

            _values.Clear();
        }
    }

    private float[] Embed(int batch, int step)
    {
        using var input = View(_ids, [batch, step]);
        using var results = _embed.Run(_runOptions, [_embedding.InputIds], [input], [_embedding.InputsEmbeds]);
        var embeds = results[0].GetTensorDataAsSpan<float>();
        Cleared(ref _embeds, embeds.Length);
        embeds.CopyTo(_embeds);
        return _embeds;
    }

    /// <summary>Tensor <paramref name="t"/> of every row's self KV, left-padded with zeros to <paramref name="past"/> slots.</summary>
    private float[] GatherPast(List<int> rows, IReadOnlyList<SequenceInput> inputs, int t, int past)
    {
        int heads = _spec.NumKvHeads;
        int dim = _spec.HeadDim;
        var buffer = Cleared(ref _pastBatch[t], rows.Count * heads * past * dim);
        for (int b = 0; b < rows.Count; b++)
        {
            _live[inputs[rows[b]].SequenceId].Kv.CopyInto(t, buffer, b, past);
        }

        return _pastBatch[t];
    }

    /// <summary>Tensor <paramref name="t"/> of every row's cross KV, zero-padded to <paramref name="mediaTokens"/> (masked out there).</summary>
    private float[] GatherCross(List<int> rows, IReadOnlyList<SequenceInput> inputs, int t, int mediaTokens)
    {
        int heads = _cross.NumHeads;
        int dim = _cross.HeadDim;
        var buffer = Cleared(ref _crossBatch[t], rows.Count * heads * mediaTokens * dim);
        for (int b = 0; b < rows.Count; b++)
        {
            var state = _live[inputs[rows[b]].SequenceId];
            if (state.Cross is null)
            {
                continue;
            }

            int length = state.Media!.MediaTokens;
            for (int h = 0; h < heads; h++)
            {
                state.Cross[t].AsSpan(h * length * dim, length * dim).CopyTo(buffer[(((b * heads) + h) * mediaTokens * dim)..]);
            }
        }

        return _crossBatch[t];
    }

    /// <summary>Whether <see cref="_crossBatch"/> already holds these rows' cross KV, in this order and width.</summary>
    private bool HoldsCrossOf(List<int> rows, IReadOnlyList<SequenceInput> inputs, int mediaTokens)
    {
        if (_crossBatchRows.Count != rows.Count || _crossBatchTokens != mediaTokens)
        {
            return false;
        }

        for (int b = 0; b < rows.Count; b++)
        {
            if (_crossBatchRows[b] != inputs[rows[b]].SequenceId)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Records whose cross KV <see cref="_crossBatch"/> now holds; a prefill's stack is not kept (the next decode batch differs).</summary>
    private void RememberCrossRows(List<int> rows, IReadOnlyList<SequenceInput> inputs, int mediaTokens, bool keep)
    {
        _crossBatchRows.Clear();
        _crossBatchTokens = mediaTokens;
        if (keep)
        {
            foreach (int r in rows)
            {
                _crossBatchRows.Add(inputs[r].SequenceId);
            }
        }
    }

    private void Scatter(List<int> rows, IReadOnlyList<SequenceInput> inputs, ForwardOutput output, IDisposableReadOnlyCollection<OrtValue> results, int step, int total)
    {
        int vocab = _spec.VocabSize;
        int hidden = _spec.HiddenSize;
        var logits = results[0].GetTensorDataAsSpan<float>();
        int firstPresent = _hasHiddenOutput ? 2 : 1;
        for (int b = 0; b < rows.Count; b++)
        {
            var input = inputs[rows[b]];
            var state = _live[input.SequenceId];
            int n = input.TokenIds.Length;
            logits.Slice(((b * step) + step - 1) * vocab, vocab).CopyTo(output.GetLogits(rows[b]));
            if (input.WantHiddenStates && _hasHiddenOutput)
            {
                results[1].GetTensorDataAsSpan<float>().Slice(((b * step) + step - n) * hidden, n * hidden).CopyTo(output.GetHiddenStates(rows[b]));
            }

            // The row's new tokens are the last n slots of the present (its past before them is what it already holds).
            state.Kv.Reserve(n);
            for (int t = 0; t < 2 * _spec.NumLayers; t++)
            {
                state.Kv.Append(t, results[firstPresent + t].GetTensorDataAsSpan<float>(), b, total, n);
            }

            state.Kv.Commit(n);
        }
    }

    /// <summary>One sequence: self KV per layer (key, value; <see cref="GrowingKv"/>) and its media's cross KV.</summary>
    private sealed class SequenceState(GrowingKv kv, CrossAttentionMedia? media, float[][]? cross)
    {
        public CrossAttentionMedia? Media { get; } = media;

        /// <summary>Per block key, value: [heads, media tokens, head_dim]; null without media.</summary>
        public float[][]? Cross { get; } = cross;

        public GrowingKv Kv { get; } = kv;
    }
}
