using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;

namespace MmServe.Runtime.Onnx.EncoderDecoder;

/// <summary>
/// Runs a merged seq2seq decoder (Whisper's <c>decoder_model_merged.onnx</c>) for one engine worker, owning each
/// sequence's decoder self-attention KV and cross-attention KV.
///
/// A sequence's first step (the prefill row: the forced start tokens, with <see cref="SequenceInput.Encoder"/>)
/// runs with <c>use_cache_branch</c> false and empty pasts, so the graph projects the encoder output into the cross
/// KV (<c>present.{i}.encoder.*</c>); that KV is kept with the sequence and fed back as
/// <c>past_key_values.{i}.encoder.*</c> on every later step (<c>use_cache_branch</c> true), until
/// <see cref="Release"/> drops it together with the self KV and the encoder output itself.
///
/// Grouping: the decoder has no attention mask and no position input (a row's positions are its past length), so one
/// ORT run can only hold rows with the same past length, the same number of new tokens and the same encoder length.
/// <see cref="Forward"/> therefore splits the engine's batch into such groups and runs each group batched. Sequences
/// admitted in the same engine step start together and stay in step until they leave, so a group is an admission
/// cohort; the scheduler needs no special case. Cost: one ORT run per live cohort per step.
///
/// Florence-2's decoder takes <c>inputs_embeds</c>: the ids go through the embed_tokens session first (one run per
/// group), and <c>encoder_attention_mask</c> is all ones over the sequence's encoder length (one sequence per row, no
/// padding).
///
/// Host memory only for now: pasts are gathered into fresh batch tensors each run (no ping-pong reuse yet).
/// Not thread-safe: one worker thread calls it.
/// </summary>
public sealed class OnnxEncoderDecoderExecutor : IModelExecutor
{
    private readonly InferenceSession _decoder;
    private readonly InferenceSession? _embedTokens;
    private readonly bool _ownsSession;
    private readonly Seq2SeqDecoderSpec _spec;
    private readonly Seq2SeqLogitRules _rules;
    private readonly RunOptions _runOptions = new();
    private readonly Dictionary<long, SequenceState> _live = [];
    private readonly Dictionary<GroupKey, List<int>> _groups = [];
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    /// <param name="embedTokens">
    /// The embed_tokens session (input_ids → inputs_embeds) when <see cref="Seq2SeqDecoderSpec.TakesInputsEmbeds"/>;
    /// shared, never disposed here.
    /// </param>
    public OnnxEncoderDecoderExecutor(
        InferenceSession decoder, Seq2SeqDecoderSpec spec, Seq2SeqLogitRules rules, int maxBatchSize, bool ownsSession = true,
        InferenceSession? embedTokens = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSize);
        _decoder = decoder;
        _ownsSession = ownsSession;
        _spec = spec;
        _rules = rules ?? Seq2SeqLogitRules.None;
        if (spec.TakesInputsEmbeds && embedTokens is null)
        {
            throw new ArgumentException("This decoder takes inputs_embeds: pass the embed_tokens session.", nameof(embedTokens));
        }

        _embedTokens = embedTokens;
        Seq2SeqContract.Check(decoder, spec);
        Info = new ExecutorInfo(spec.VocabSize, spec.MaxTargetPositions, maxBatchSize, HiddenSize: 0) { EncoderWidth = spec.EncoderWidth };

        var inputs = new List<string> { spec.TokenInput, Seq2SeqDecoderSpec.EncoderHiddenStates };
        if (spec.TakesEncoderAttentionMask)
        {
            inputs.Add(Seq2SeqDecoderSpec.EncoderAttentionMask);
        }

        var outputs = new List<string> { Seq2SeqDecoderSpec.Logits };
        for (int layer = 0; layer < spec.Layers; layer++)
        {
            foreach (bool cross in (bool[])[false, true])
            {
                foreach (bool value in (bool[])[false, true])
                {
                    inputs.Add(Seq2SeqDecoderSpec.Past(layer, cross, value));
                    outputs.Add(Seq2SeqDecoderSpec.Present(layer, cross, value));
                }
            }
        }

        inputs.Add(Seq2SeqDecoderSpec.UseCacheBranch);
        _inputNames = [.. inputs];
        _outputNames = [.. outputs];
    }

    public ExecutorInfo Info { get; }

    /// <summary>Sequences holding KV now (for tests and memory checks).</summary>
    public int LiveSequences => _live.Count;

    public void Forward(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(output);
        foreach (var list in _groups.Values)
        {
            list.Clear();
        }

        for (int row = 0; row < inputs.Count; row++)
        {
            var key = KeyOf(inputs[row]);
            if (!_groups.TryGetValue(key, out var rows))
            {
                rows = [];
                _groups[key] = rows;
            }

            rows.Add(row);
        }

        using var cancel = ct.Register(static o => ((RunOptions)o!).Terminate = true, _runOptions);
        try
        {
            foreach (var (key, rows) in _groups)
            {
                if (rows.Count > 0)
                {
                    ct.ThrowIfCancellationRequested();
                    RunGroup(key, rows, inputs, output);
                }
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
        if (_ownsSession)
        {
            _decoder.Dispose();
        }
    }

    private GroupKey KeyOf(SequenceInput input)
    {
        if (input.StartPosition == 0)
        {
            var encoder = input.Encoder ?? throw new ArgumentException($"Sequence {input.SequenceId}: its first decoder step has no encoder output.", nameof(input));
            if (encoder.Width != _spec.EncoderWidth)
            {
                throw new ArgumentException($"Sequence {input.SequenceId}: encoder output {encoder.Width} wide, the decoder takes {_spec.EncoderWidth}.", nameof(input));
            }

            return new GroupKey(0, input.TokenIds.Length, encoder.Length);
        }

        if (!_live.TryGetValue(input.SequenceId, out var state) || state.Length != input.StartPosition)
        {
            throw new InvalidOperationException($"Sequence {input.SequenceId}: decode at {input.StartPosition} without matching KV state.");
        }

        return new GroupKey(input.StartPosition, input.TokenIds.Length, state.EncoderLength);
    }

    private void RunGroup(GroupKey key, List<int> rows, IReadOnlyList<SequenceInput> inputs, ForwardOutput output)
    {
        int batch = rows.Count;
        int past = key.Past;
        int step = key.NewTokens;
        int heads = _spec.Heads;
        int dim = _spec.HeadDim;
        bool first = past == 0;

        var ids = new long[batch * step];
        for (int b = 0; b < batch; b++)
        {
            var tokens = inputs[rows[b]].TokenIds.Span;
            for (int t = 0; t < step; t++)
            {
                ids[(b * step) + t] = tokens[t];
            }
        }

        // encoder_hidden_states: the real outputs on the first step; afterwards the cache branch ignores it, so one
        // zero position keeps the run small.
        int encoderRows = first ? key.EncoderLength : 1;
        var encoder = new float[batch * encoderRows * _spec.EncoderWidth];
        if (first)
        {
            for (int b = 0; b < batch; b++)
            {
                inputs[rows[b]].Encoder!.HiddenStates.Span.CopyTo(encoder.AsSpan(b * encoderRows * _spec.EncoderWidth));
            }
        }

        var values = new List<OrtValue>(_inputNames.Length + _outputNames.Length);
        try
        {
            values.Add(_spec.TakesInputsEmbeds
                ? OrtValue.CreateTensorValueFromMemory(Embed(ids, batch, step), [batch, step, _spec.EncoderWidth])
                : OrtValue.CreateTensorValueFromMemory(ids, [batch, step]));
            values.Add(OrtValue.CreateTensorValueFromMemory(encoder, [batch, encoderRows, _spec.EncoderWidth]));
            if (_spec.TakesEncoderAttentionMask)
            {
                // Over the cross KV's length on every step (not encoderRows, which is 1 after the first).
                var mask = new long[batch * key.EncoderLength];
                mask.AsSpan().Fill(1);
                values.Add(OrtValue.CreateTensorValueFromMemory(mask, [batch, key.EncoderLength]));
            }

            for (int layer = 0; layer < _spec.Layers; layer++)
            {
                foreach (bool cross in (bool[])[false, true])
                {
                    foreach (bool value in (bool[])[false, true])
                    {
                        int length = first ? 0 : cross ? key.EncoderLength : past;
                        values.Add(OrtValue.CreateTensorValueFromMemory(
                            Gather(rows, inputs, Seq2SeqDecoderSpec.Slot(layer, cross, value), first, heads * length * dim),
                            [batch, heads, length, dim]));
                    }
                }
            }

            values.Add(OrtValue.CreateTensorValueFromMemory(new[] { !first }, [1]));
            using var results = _decoder.Run(_runOptions, _inputNames, values, _outputNames);
            Scatter(key, rows, inputs, results, output);
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>embed_tokens over the group's ids: [batch, step] → [batch, step, width] floats.</summary>
    private float[] Embed(long[] ids, int batch, int step)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [batch, step]);
        using var results = _embedTokens!.Run(_runOptions, [Seq2SeqDecoderSpec.InputIds], [input], [Seq2SeqDecoderSpec.InputsEmbeds]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private float[] Gather(List<int> rows, IReadOnlyList<SequenceInput> inputs, int slot, bool first, int perRow)
    {
        if (first)
        {
            return [];
        }

        var buffer = new float[rows.Count * perRow];
        for (int b = 0; b < rows.Count; b++)
        {
            _live[inputs[rows[b]].SequenceId].Kv[slot].AsSpan(0, perRow).CopyTo(buffer.AsSpan(b * perRow));
        }

        return buffer;
    }

    private void Scatter(GroupKey key, List<int> rows, IReadOnlyList<SequenceInput> inputs, IDisposableReadOnlyCollection<OrtValue> results, ForwardOutput output)
    {
        int batch = rows.Count;
        int step = key.NewTokens;
        int vocab = _spec.VocabSize;
        bool first = key.Past == 0;
        var logits = results[0].GetTensorDataAsSpan<float>();
        for (int b = 0; b < batch; b++)
        {
            var input = inputs[rows[b]];
            if (first)
            {
                _live[input.SequenceId] = new SequenceState(_spec.Layers * Seq2SeqDecoderSpec.TensorsPerLayer, key.EncoderLength);
            }

            var ids = _live[input.SequenceId].DecoderIds;
            foreach (int id in input.TokenIds.Span)
            {
                ids.Add(id);
            }

            var row = output.GetLogits(rows[b]);
            logits.Slice(((b * step) + step - 1) * vocab, vocab).CopyTo(row);
            _rules.Apply(row, first, ids);
        }

        int selfLength = key.Past + step;
        int heads = _spec.Heads;
        int dim = _spec.HeadDim;
        for (int b = 0; b < batch; b++)
        {
            var input = inputs[rows[b]];
            var state = _live[input.SequenceId];
            state.Length = selfLength;
            for (int layer = 0; layer < _spec.Layers; layer++)
            {
                foreach (bool cross in (bool[])[false, true])
                {
                    if (cross && !first)
                    {
                        // With use_cache_branch true the encoder presents are the pasts passed through: keep ours.
                        continue;
                    }

                    foreach (bool value in (bool[])[false, true])
                    {
                        int slot = Seq2SeqDecoderSpec.Slot(layer, cross, value);
                        int length = cross ? key.EncoderLength : selfLength;
                        int perRow = heads * length * dim;
                        // Outputs: logits, then each layer's tensors in slot order.
                        var present = results[1 + slot].GetTensorDataAsSpan<float>();
                        state.Kv[slot] = present.Slice(b * perRow, perRow).ToArray();
                    }
                }
            }
        }
    }

    private readonly record struct GroupKey(int Past, int NewTokens, int EncoderLength);

    /// <summary>One sequence's KV: per layer self key/value [heads, Length, dim] and cross key/value [heads, EncoderLength, dim].</summary>
    private sealed class SequenceState(int tensors, int encoderLength)
    {
        public float[][] Kv { get; } = new float[tensors][];

        public int EncoderLength { get; } = encoderLength;

        public int Length { get; set; }

        /// <summary>Every id the decoder was fed (start tokens, then each generated token), for n-gram bans.</summary>
        public List<int> DecoderIds { get; } = [];
    }
}
