using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Runtime.Onnx.Execution;
using static MmServe.Runtime.Onnx.Execution.ScratchTensors;

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
/// Memory (host only): a sequence's self KV lives in arrays of [heads, capacity, head_dim] per tensor, doubling as it
/// grows, rented from the executor's pool and returned on release, and a step appends only its new slots. A cohort's
/// cross KV is stacked into [batch, heads, encoder_length, head_dim] once and reused while the cohort's rows stay the
/// same (a single row's own arrays are used as they are); run inputs go to reused scratch arrays. So a decode step
/// allocates no managed memory proportional to the context or the encoder length; it still copies the rows' self
/// pasts into the batch tensors (the decoder concatenates past and new KV).
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

    private static readonly bool[] FalseTrue = [false, true];

    // Scratch of one run, grown as needed and reused (contents rewritten every run).
    private readonly List<OrtValue> _values = [];
    private readonly float[][] _selfBatch;
    private readonly bool[] _useCacheBranch = new bool[1];
    private long[] _ids = [];
    private float[] _encoder = [];
    private long[] _encoderMask = [];
    private float[] _embeds = [];

    // Stacked cross KV per cohort (the rows' sequence ids in order); dropped when any of its sequences is released,
    // its arrays back to their own pool (a few cohorts' worth are kept; Whisper's cross KV is large).
    private readonly List<CrossStack> _crossStacks = [];
    private readonly ArrayPool<float> _crossPool;

    // Self-KV arrays of the sequences: rented on growth, returned on growth and release (see the class remarks).
    private readonly ArrayPool<float> _kvPool;

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
        _selfBatch = [.. Enumerable.Range(0, SelfTensors).Select(_ => Array.Empty<float>())];
        _kvPool = ArrayPool<float>.Create(spec.Heads * spec.MaxTargetPositions * spec.HeadDim, maxBatchSize * spec.Layers * 2 * 2);
        _crossPool = ArrayPool<float>.Create(1 << 30, spec.Layers * 2 * 4);
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

    public void Release(long sequenceId)
    {
        if (_live.Remove(sequenceId, out var state))
        {
            state.Kv.Release();
        }

        for (int i = _crossStacks.Count - 1; i >= 0; i--)
        {
            if (Array.IndexOf(_crossStacks[i].Ids, sequenceId) >= 0)
            {
                ReturnStack(_crossStacks[i]);
                _crossStacks.RemoveAt(i);
            }
        }
    }

    public void Dispose()
    {
        foreach (var state in _live.Values)
        {
            state.Kv.Release();
        }

        _live.Clear();
        _crossStacks.ForEach(ReturnStack);
        _crossStacks.Clear();
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

        var ids = Cleared(ref _ids, batch * step);
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
        var encoder = Cleared(ref _encoder, batch * encoderRows * _spec.EncoderWidth);
        if (first)
        {
            for (int b = 0; b < batch; b++)
            {
                inputs[rows[b]].Encoder!.HiddenStates.Span.CopyTo(encoder[(b * encoderRows * _spec.EncoderWidth)..]);
            }
        }

        var cross = first ? null : CrossStackOf(key, rows, inputs);
        try
        {
            _values.Add(_spec.TakesInputsEmbeds
                ? View(Embed(batch, step), [batch, step, _spec.EncoderWidth])
                : View(_ids, [batch, step]));
            _values.Add(View(_encoder, [batch, encoderRows, _spec.EncoderWidth]));
            if (_spec.TakesEncoderAttentionMask)
            {
                // Over the cross KV's length on every step (not encoderRows, which is 1 after the first).
                Cleared(ref _encoderMask, batch * key.EncoderLength).Fill(1);
                _values.Add(View(_encoderMask, [batch, key.EncoderLength]));
            }

            for (int layer = 0; layer < _spec.Layers; layer++)
            {
                foreach (bool isCross in FalseTrue)
                {
                    foreach (bool value in FalseTrue)
                    {
                        int slot = Seq2SeqDecoderSpec.Slot(layer, isCross, value);
                        int length = first ? 0 : isCross ? key.EncoderLength : past;
                        var tensor = first ? [] : isCross ? cross![slot] : GatherSelf(rows, inputs, SelfIndex(layer, value), past);
                        _values.Add(View(tensor, [batch, heads, length, dim]));
                    }
                }
            }

            _useCacheBranch[0] = !first;
            _values.Add(OrtValue.CreateTensorValueFromMemory(_useCacheBranch, [1]));
            using var results = _decoder.Run(_runOptions, _inputNames, _values, _outputNames);
            Scatter(key, rows, inputs, results, output);
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

    /// <summary>embed_tokens over the group's ids: [batch, step] → [batch, step, width] floats.</summary>
    private float[] Embed(int batch, int step)
    {
        using var input = View(_ids, [batch, step]);
        using var results = _embedTokens!.Run(_runOptions, [Seq2SeqDecoderSpec.InputIds], [input], [Seq2SeqDecoderSpec.InputsEmbeds]);
        var embeds = results[0].GetTensorDataAsSpan<float>();
        Cleared(ref _embeds, embeds.Length);
        embeds.CopyTo(_embeds);
        return _embeds;
    }

    /// <summary>Self-KV tensor <paramref name="self"/> (<see cref="SelfIndex"/>) of the rows (all <paramref name="past"/> long: a cohort) as [batch, heads, past, dim].</summary>
    private float[] GatherSelf(List<int> rows, IReadOnlyList<SequenceInput> inputs, int self, int past)
    {
        var buffer = Cleared(ref _selfBatch[self], rows.Count * _spec.Heads * past * _spec.HeadDim);
        for (int b = 0; b < rows.Count; b++)
        {
            _live[inputs[rows[b]].SequenceId].Kv.CopyInto(self, buffer, b, past);
        }

        return _selfBatch[self];
    }

    /// <summary>Self tensors per sequence: key and value of every layer.</summary>
    private int SelfTensors => 2 * _spec.Layers;

    /// <summary>A layer's self key or value among the <see cref="SelfTensors"/>.</summary>
    private static int SelfIndex(int layer, bool value) => (2 * layer) + (value ? 1 : 0);

    /// <summary>
    /// The cohort's cross KV per slot, [batch, heads, encoder_length, dim]: a lone row's own arrays, else the stack
    /// built the first time these rows ran together (in this order) since their prefill.
    /// </summary>
    private float[][] CrossStackOf(GroupKey key, List<int> rows, IReadOnlyList<SequenceInput> inputs)
    {
        if (rows.Count == 1)
        {
            return _live[inputs[rows[0]].SequenceId].Cross;
        }

        foreach (var stack in _crossStacks)
        {
            if (stack.Ids.Length == rows.Count && Matches(stack.Ids, rows, inputs))
            {
                return stack.Tensors;
            }
        }

        int perRow = _spec.Heads * key.EncoderLength * _spec.HeadDim;
        var tensors = new float[_spec.Layers * Seq2SeqDecoderSpec.TensorsPerLayer][];
        for (int layer = 0; layer < _spec.Layers; layer++)
        {
            foreach (bool value in FalseTrue)
            {
                int slot = Seq2SeqDecoderSpec.Slot(layer, cross: true, value);
                var stacked = _crossPool.Rent(rows.Count * perRow);
                for (int b = 0; b < rows.Count; b++)
                {
                    _live[inputs[rows[b]].SequenceId].Cross[slot].AsSpan(0, perRow).CopyTo(stacked.AsSpan(b * perRow));
                }

                tensors[slot] = stacked;
            }
        }

        var ids = new long[rows.Count];
        for (int b = 0; b < rows.Count; b++)
        {
            ids[b] = inputs[rows[b]].SequenceId;
        }

        _crossStacks.Add(new CrossStack(ids, tensors));
        return tensors;
    }

    private void ReturnStack(CrossStack stack)
    {
        foreach (var tensor in stack.Tensors)
        {
            if (tensor is not null)
            {
                _crossPool.Return(tensor);
            }
        }
    }

    private static bool Matches(long[] ids, List<int> rows, IReadOnlyList<SequenceInput> inputs)
    {
        for (int b = 0; b < rows.Count; b++)
        {
            if (ids[b] != inputs[rows[b]].SequenceId)
            {
                return false;
            }
        }

        return true;
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
                _live[input.SequenceId] = new SequenceState(new GrowingKv(SelfTensors, _spec.Heads, _spec.HeadDim, _spec.MaxTargetPositions, _kvPool), _spec.Layers * Seq2SeqDecoderSpec.TensorsPerLayer, key.EncoderLength);
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
        int crossPerRow = _spec.Heads * key.EncoderLength * _spec.HeadDim;
        for (int b = 0; b < batch; b++)
        {
            var state = _live[inputs[rows[b]].SequenceId];
            state.Kv.Reserve(step);
            for (int layer = 0; layer < _spec.Layers; layer++)
            {
                foreach (bool value in FalseTrue)
                {
                    // Outputs: logits, then each layer's tensors in slot order. Self: append the step's new slots.
                    var present = results[1 + Seq2SeqDecoderSpec.Slot(layer, cross: false, value)].GetTensorDataAsSpan<float>();
                    state.Kv.Append(SelfIndex(layer, value), present, b, selfLength, step);

                    // Cross: projected once, on the first step; with use_cache_branch true the encoder presents are
                    // the pasts passed through, so ours are kept.
                    if (first)
                    {
                        int cross = Seq2SeqDecoderSpec.Slot(layer, cross: true, value);
                        state.Cross[cross] = results[1 + cross].GetTensorDataAsSpan<float>().Slice(b * crossPerRow, crossPerRow).ToArray();
                    }
                }
            }

            state.Kv.Commit(step);
        }
    }

    /// <summary>
    /// A cohort's stacked cross KV: the rows' sequence ids in order, and per slot [batch, heads, encoder_length, dim]
    /// at the start of a pooled array (self slots null).
    /// </summary>
    private sealed record CrossStack(long[] Ids, float[][] Tensors);

    private readonly record struct GroupKey(int Past, int NewTokens, int EncoderLength);

    /// <summary>
    /// One sequence's KV: self key/value of every layer (<see cref="GrowingKv"/>, indexed by <see cref="SelfIndex"/>)
    /// and cross key/value [heads, EncoderLength, dim] (indexed by <see cref="Seq2SeqDecoderSpec.Slot"/>).
    /// </summary>
    private sealed class SequenceState(GrowingKv kv, int slots, int encoderLength)
    {
        public GrowingKv Kv { get; } = kv;

        public float[][] Cross { get; } = new float[slots][];

        public int EncoderLength { get; } = encoderLength;

        public int Length => Kv.Length;

        /// <summary>Every id the decoder was fed (start tokens, then each generated token), for n-gram bans.</summary>
        public List<int> DecoderIds { get; } = [];
    }
}
