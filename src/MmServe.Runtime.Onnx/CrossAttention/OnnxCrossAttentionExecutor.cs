using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Model.Bundle;

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
/// second, left-padded run. Host memory only; pasts are gathered into fresh tensors each run.
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
            else if (!_live.TryGetValue(input.SequenceId, out var state) || state.Length != input.StartPosition || input.TokenIds.Length != 1)
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

    public void Release(long sequenceId) => _live.Remove(sequenceId);

    public void Dispose()
    {
        _live.Clear();
        _runOptions.Dispose();
        if (_ownsSessions)
        {
            _embed.Dispose();
            _decoder.Dispose();
            _crossKv.Dispose();
        }
    }

    /// <summary>A new sequence's state, with its cross KV computed now (the one cross_kv run of its life).</summary>
    private SequenceState NewState(SequenceInput input)
    {
        if (input.CrossAttention is not { } media)
        {
            return new SequenceState(2 * _spec.NumLayers, null, null);
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

        return new SequenceState(2 * _spec.NumLayers, media, kv);
    }

    private void Run(List<int> rows, IReadOnlyList<SequenceInput> inputs, ForwardOutput output, bool prefill)
    {
        int batch = rows.Count;
        int step = prefill ? rows.Max(r => inputs[r].TokenIds.Length) : 1;
        int past = prefill ? 0 : rows.Max(r => _live[inputs[r].SequenceId].Length);
        int total = past + step;
        int mediaTokens = Math.Max(1, rows.Max(r => _live[inputs[r].SequenceId].Media?.MediaTokens ?? 0));
        int kvHeads = _spec.NumKvHeads;
        int headDim = _spec.HeadDim;

        var ids = new long[batch * step];
        var mask = new long[batch * total];
        var positions = new long[batch * step];
        var mediaMask = new long[batch * step * mediaTokens];
        for (int b = 0; b < batch; b++)
        {
            var input = inputs[rows[b]];
            var state = _live[input.SequenceId];
            int n = input.TokenIds.Length;
            int length = state.Length;

            // Left padding: the row's past fills the last `length` of the `past` slots, its new tokens the last n of `step`.
            mask.AsSpan((b * total) + past - length, length).Fill(1);
            mask.AsSpan((b * total) + past + step - n, n).Fill(1);
            for (int t = 0; t < n; t++)
            {
                int slot = (b * step) + step - n + t;
                int position = input.StartPosition + t;
                ids[slot] = input.TokenIds.Span[t];
                positions[slot] = position;
                if (state.Media is { } media && media.ItemAt(position) is var item and >= 0)
                {
                    mediaMask.AsSpan((slot * mediaTokens) + (item * media.TokensPerItem), media.TokensPerItem).Fill(1);
                }
            }
        }

        var values = new List<OrtValue>(_inputNames.Length);
        try
        {
            values.Add(OrtValue.CreateTensorValueFromMemory(Embed(ids, batch, step), [batch, step, _spec.HiddenSize]));
            values.Add(OrtValue.CreateTensorValueFromMemory(mask, [batch, total]));
            values.Add(OrtValue.CreateTensorValueFromMemory(positions, [batch, step]));
            values.Add(OrtValue.CreateTensorValueFromMemory(mediaMask, [batch, step, mediaTokens]));
            for (int t = 0; t < 2 * _spec.NumLayers; t++)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(GatherPast(rows, inputs, t, past), [batch, kvHeads, past, headDim]));
            }

            for (int t = 0; t < _crossKvOutputs.Length; t++)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(GatherCross(rows, inputs, t, mediaTokens), [batch, _cross.NumHeads, mediaTokens, _cross.HeadDim]));
            }

            using var results = _decoder.Run(_runOptions, _inputNames, values, _outputNames);
            Scatter(rows, inputs, output, results, step, total);
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    private float[] Embed(long[] ids, int batch, int step)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [batch, step]);
        using var results = _embed.Run(_runOptions, [_embedding.InputIds], [input], [_embedding.InputsEmbeds]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Tensor <paramref name="t"/> of every row's self KV, left-padded with zeros to <paramref name="past"/> slots.</summary>
    private float[] GatherPast(List<int> rows, IReadOnlyList<SequenceInput> inputs, int t, int past)
    {
        int heads = _spec.NumKvHeads;
        int dim = _spec.HeadDim;
        var buffer = new float[rows.Count * heads * past * dim];
        for (int b = 0; b < rows.Count; b++)
        {
            var state = _live[inputs[rows[b]].SequenceId];
            int length = state.Length;
            for (int h = 0; h < heads && length > 0; h++)
            {
                state.Kv[t].AsSpan(h * length * dim, length * dim)
                    .CopyTo(buffer.AsSpan((((b * heads) + h) * past + past - length) * dim));
            }
        }

        return buffer;
    }

    /// <summary>Tensor <paramref name="t"/> of every row's cross KV, zero-padded to <paramref name="mediaTokens"/> (masked out there).</summary>
    private float[] GatherCross(List<int> rows, IReadOnlyList<SequenceInput> inputs, int t, int mediaTokens)
    {
        int heads = _cross.NumHeads;
        int dim = _cross.HeadDim;
        var buffer = new float[rows.Count * heads * mediaTokens * dim];
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
                state.Cross[t].AsSpan(h * length * dim, length * dim).CopyTo(buffer.AsSpan(((b * heads) + h) * mediaTokens * dim));
            }
        }

        return buffer;
    }

    private void Scatter(List<int> rows, IReadOnlyList<SequenceInput> inputs, ForwardOutput output, IDisposableReadOnlyCollection<OrtValue> results, int step, int total)
    {
        int vocab = _spec.VocabSize;
        int hidden = _spec.HiddenSize;
        int heads = _spec.NumKvHeads;
        int dim = _spec.HeadDim;
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

            // The row's real slots are the tail of the present: its past, then its new tokens (left padding before).
            int length = state.Length + n;
            for (int t = 0; t < 2 * _spec.NumLayers; t++)
            {
                var present = results[firstPresent + t].GetTensorDataAsSpan<float>();
                var kv = new float[heads * length * dim];
                for (int h = 0; h < heads; h++)
                {
                    present.Slice(((((b * heads) + h) * total) + total - length) * dim, length * dim).CopyTo(kv.AsSpan(h * length * dim));
                }

                state.Kv[t] = kv;
            }

            state.Length = length;
        }
    }

    /// <summary>One sequence: self KV per layer (key, value: [kv_heads, Length, head_dim]) and its media's cross KV.</summary>
    private sealed class SequenceState(int selfKvTensors, CrossAttentionMedia? media, float[][]? cross)
    {
        public CrossAttentionMedia? Media { get; } = media;

        /// <summary>Per block key, value: [heads, media tokens, head_dim]; null without media.</summary>
        public float[][]? Cross { get; } = cross;

        public float[][] Kv { get; } = new float[selfKvTensors][];

        public int Length { get; set; }
    }
}
