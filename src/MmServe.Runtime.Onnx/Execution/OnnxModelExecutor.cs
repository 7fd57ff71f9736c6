using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Device;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Runs the embedding model and the decoder of a bundle for one engine worker, owning the KV cache.
///
/// Layout: the running batch keeps every row right-aligned in [B, kv_heads, T, head_dim]; shorter rows are
/// left-padded and masked out through attention_mask, while position_ids carry each row's own positions.
/// While the set of decoding sequences is unchanged, each step feeds the previous present tensors back as
/// past (ping-pong buffers, no copy). When sequences join (after their prefill) or leave, the batch is
/// repacked once. New prompts are prefilled together in a separate run, left-padded.
///
/// Where the KV cache lives is chosen once: in host arrays run through <c>InferenceSession.Run</c> (the CPU path), or,
/// on CUDA, in device memory run through IOBinding (OnnxModelExecutor.Device.cs), where the step's embeddings, KV,
/// logits and hidden states stay on the device and only the logits and hidden-state rows the engine reads come back.
/// Not thread-safe: one worker thread calls it.
/// </summary>
public sealed partial class OnnxModelExecutor : IModelExecutor
{
    private readonly InferenceSession? _embed;
    private readonly InferenceSession _decoder;
    private readonly bool _ownsSessions;
    private readonly DecoderSpec _spec;
    private readonly EmbeddingSpec? _embedding;

    /// <summary>The decoder embeds tokens itself (input_ids in, no embedding session): HF text LLM exports.</summary>
    private readonly bool _decoderTakesIds;
    private readonly bool _feedPositions;

    /// <summary>The decoder's token_type_ids input (visual-expert decoders), or null.</summary>
    private readonly string? _tokenTypeInput;

    /// <summary>Position streams of position_ids: 1 ([batch, seq]) or 3 for M-RoPE ([3, batch, seq]).</summary>
    private readonly int _positionAxes;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _hidden;
    private readonly int _vocab;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly bool _hasHiddenOutput;
    private readonly RunOptions _runOptions = new();
    private static readonly float[] NoPast = new float[1];
    private readonly IKvStorage _store;

    /// <summary>The device path's bindings and step buffers; null on the host path.</summary>
    private readonly DeviceStep? _device;

    /// <summary>Marks a batch row whose sequence was released; the row is dropped at the next repack.</summary>
    private const long Released = long.MinValue;

    // running batch
    private readonly List<long> _batchIds = [];
    private readonly List<int> _batchLengths = [];
    private int _batchSlots;
    private int _current;
    private readonly Dictionary<long, IDetachedKv> _detached = [];

    // scratch, grow-only
    private long[] _ids = [];
    private long[] _mask = [];
    private long[] _positions = [];
    private float[] _embeds = [];
    private float[] _logits = [];
    private float[] _hiddenStates = [];
    private readonly List<int> _decodeRows = [];
    private readonly List<int> _prefillRows = [];

    /// <param name="embed">The token-embedding session; null when the decoder takes input_ids (<see cref="DecoderSpec.InputIds"/>).</param>
    /// <param name="cudaDeviceId">
    /// Keep the KV cache and the step's tensors on this CUDA device (both sessions must run on its CUDA execution
    /// provider); null keeps them in host memory.
    /// </param>
    /// <exception cref="Model.Bundle.BundleValidationException">The sessions' inputs and outputs do not match the manifest (names, KV heads, head size, element types).</exception>
    public OnnxModelExecutor(ModelBundle bundle, InferenceSession? embed, InferenceSession decoder, int maxBatchSize, bool ownsSessions = true, int? cudaDeviceId = null)
        : this(bundle, embed, decoder, maxBatchSize, ownsSessions, cudaDeviceId is { } id ? () => new CudaMemory(id, decoder) : null)
    {
    }

    /// <param name="deviceMemory">Creates the memory of the device path; null for the host path.</param>
    internal OnnxModelExecutor(ModelBundle bundle, InferenceSession? embed, InferenceSession decoder, int maxBatchSize, bool ownsSessions, Func<IDeviceMemory>? deviceMemory)
    {
        _embed = embed;
        _decoder = decoder;
        _ownsSessions = ownsSessions;
        _spec = bundle.Manifest.Decoder;
        _embedding = bundle.Manifest.Embedding;
        _decoderTakesIds = _spec.InputIds is not null;
        if (_decoderTakesIds != (embed is null) || (embed is not null && _embedding is null))
        {
            throw new ArgumentException("pass an embedding session exactly when the decoder takes inputs_embeds", nameof(embed));
        }

        SessionContract.CheckDecoder(bundle, decoder);
        if (embed is not null)
        {
            SessionContract.CheckEmbedding(bundle, embed);
        }

        _feedPositions = decoder.InputMetadata.ContainsKey(_spec.PositionIds);
        _positionAxes = _spec.PositionAxes;
        _kvHeads = _spec.NumKvHeads;
        _headDim = _spec.HeadDim;
        _hidden = _spec.HiddenSize;
        _vocab = _spec.VocabSize;
        Info = new ExecutorInfo(_vocab, bundle.Manifest.MaxContext, maxBatchSize, _hidden);

        var inputs = new List<string> { _decoderTakesIds ? _spec.InputIds! : _spec.InputsEmbeds, _spec.AttentionMask };
        if (_feedPositions)
        {
            inputs.Add(_spec.PositionIds);
        }

        _tokenTypeInput = TokenTypeInput(_spec, _spec.SharesKvBuffer, deviceMemory is not null);
        if (_tokenTypeInput is not null)
        {
            inputs.Add(_tokenTypeInput);
        }

        var outputs = new List<string> { _spec.Logits };
        _hasHiddenOutput = _spec.HiddenStates is not null;
        if (_hasHiddenOutput)
        {
            outputs.Add(_spec.HiddenStates!);
        }

        _spec.AddKvNames(inputs, outputs);

        _inputNames = [.. inputs];
        _outputNames = [.. outputs];
        int tensors = 2 * _spec.NumLayers;
        if (_spec.SharesKvBuffer)
        {
            if (deviceMemory is not null)
            {
                throw new NotSupportedException(
                    $"decoder '{_spec.Component}' shares its KV buffer (kv_buffer \"shared\"): that form runs on the host path only; serve its concat form on CUDA");
            }

            _shared = new SharedKvSlots(tensors, maxBatchSize, _kvHeads, bundle.Manifest.MaxContext, _headDim);
            var slots = _shared;
            _sharedStep = new SharedDecodeStep(embed, decoder, _embedding, _spec, _feedPositions, maxBatchSize, bundle.Manifest.MaxContext, (t, b) => slots.View(t, 0, b));
        }

        if (deviceMemory is null)
        {
            _store = new HostKvStorage(tensors, _kvHeads, _headDim);
        }
        else
        {
            var memory = deviceMemory();
            _store = new DeviceKvStorage(memory, tensors, _kvHeads, _headDim);
            _device = new DeviceStep(memory, embed, decoder);
        }
    }

    public ExecutorInfo Info { get; }

    /// <summary>Where the KV cache lives: "host", or the device ("cuda:0"; "cpu" when the device path runs on CPU memory in tests).</summary>
    public string KvCacheLocation => _device?.Memory.Name ?? (_shared is null ? "host" : "host (shared buffer)");

    /// <summary>Sequences whose KV this executor currently holds (running batch + detached).</summary>
    public int HeldSequences => _shared?.Held ?? _batchIds.Count(id => id != Released) + _detached.Count;

    /// <summary>KV copies the shared-buffer path made to close holes in its batch (0 on the concat path).</summary>
    public long KvSlotMoves => _shared?.Moves ?? 0;

    public void Forward(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, _runOptions);
        try
        {
            if (_shared is null)
            {
                ForwardConcat(inputs, output, ct);
            }
            else
            {
                ForwardShared(inputs, output, ct);
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

    private void ForwardConcat(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        _decodeRows.Clear();
        _prefillRows.Clear();
        for (int r = 0; r < inputs.Count; r++)
        {
            var input = inputs[r];
            bool known = _detached.ContainsKey(input.SequenceId) || _batchIds.Contains(input.SequenceId);
            if (!known)
            {
                if (input.StartPosition != 0)
                {
                    throw new InvalidOperationException($"sequence {input.SequenceId} has no KV state but starts at {input.StartPosition}");
                }

                _prefillRows.Add(r);
            }
            else
            {
                if (input.TokenIds.Length != 1)
                {
                    throw new InvalidOperationException($"sequence {input.SequenceId}: a running sequence takes one token per step");
                }

                _decodeRows.Add(r);
            }
        }

        if (_decodeRows.Count > 0)
        {
            Decode(inputs, output, ct);
        }

        if (_prefillRows.Count > 0)
        {
            Prefill(inputs, output, ct);
        }
    }

    public void Release(long sequenceId)
    {
        if (_shared is not null)
        {
            _shared.Release(sequenceId);
            return;
        }

        if (_detached.Remove(sequenceId, out var kv))
        {
            kv.Dispose();
            return;
        }

        int row = _batchIds.IndexOf(sequenceId);
        if (row >= 0)
        {
            // Dropping a row needs a repack; do it lazily at the next decode (EnsureBatch), so several
            // releases in one step cost one repack. Until then the row only occupies buffer space.
            _batchIds[row] = Released;
            if (_batchIds.TrueForAll(id => id == Released))
            {
                _batchIds.Clear();
                _batchLengths.Clear();
                _batchSlots = 0;
            }
        }
    }

    // ---------------------------------------------------------------- decode
    private void Decode(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        EnsureBatch(inputs);
        int b = _batchIds.Count;
        int total = _batchSlots + 1;

        Grow(ref _ids, b);
        Grow(ref _positions, _positionAxes * b);
        Grow(ref _mask, b * total);
        foreach (int r in _decodeRows)
        {
            var input = inputs[r];
            int row = _batchIds.IndexOf(input.SequenceId);
            _ids[row] = input.TokenIds.Span[0];
            for (int axis = 0; axis < _positionAxes; axis++)
            {
                _positions[(axis * b) + row] = input.Positions?.At(axis, input.StartPosition) ?? input.StartPosition;
            }
        }

        FillDecodeTokenTypes(inputs, b);
        for (int row = 0; row < b; row++)
        {
            var maskRow = _mask.AsSpan(row * total, total);
            int pad = total - (_batchLengths[row] + 1);
            maskRow[..pad].Clear();
            maskRow[pad..].Fill(1);
        }

        var past = (KvSet)_current;
        var present = (KvSet)(1 - _current);
        _store.EnsureCapacity(present, b * _kvHeads * total * _headDim);
        if (_device is null)
        {
            Embed(b, 1, ct);
            RunDecoder(b, 1, _batchSlots, past, present, ct);
        }
        else
        {
            EmbedOnDevice(b, 1, ct);
            RunDecoderOnDevice(b, 1, _batchSlots, past, present, ct);
        }

        foreach (int r in _decodeRows)
        {
            int row = _batchIds.IndexOf(inputs[r].SequenceId);
            ReadLogits(row, output.GetLogits(r));
            if (inputs[r].WantHiddenStates && _hasHiddenOutput)
            {
                ReadHiddenStates(row, output.GetHiddenStates(r));
            }
        }

        _current = 1 - _current;
        _batchSlots = total;
        for (int row = 0; row < b; row++)
        {
            _batchLengths[row]++;
        }
    }

    /// <summary>Makes the running batch hold exactly the sequences decoding this step (repacking if needed).</summary>
    private void EnsureBatch(IReadOnlyList<SequenceInput> inputs)
    {
        bool same = _decodeRows.Count == _batchIds.Count;
        if (same)
        {
            foreach (int r in _decodeRows)
            {
                if (!_batchIds.Contains(inputs[r].SequenceId))
                {
                    same = false;
                    break;
                }
            }
        }

        if (same)
        {
            return;
        }

        var source = (KvSet)_current;
        var target = (KvSet)(1 - _current);
        var newIds = new List<long>(_decodeRows.Count);
        var newLengths = new List<int>(_decodeRows.Count);
        foreach (int r in _decodeRows)
        {
            long id = inputs[r].SequenceId;
            newIds.Add(id);
            int row = _batchIds.IndexOf(id);
            newLengths.Add(row >= 0 ? _batchLengths[row] : _detached[id].Length);
        }

        // Rows leaving the batch without being released keep their KV aside.
        for (int row = 0; row < _batchIds.Count; row++)
        {
            long id = _batchIds[row];
            if (id != Released && !newIds.Contains(id))
            {
                _detached[id] = _store.Detach(source, row, _batchSlots, _batchLengths[row]);
            }
        }

        int slots = 0;
        foreach (int len in newLengths)
        {
            slots = Math.Max(slots, len);
        }

        var rows = new KvRowSource[newIds.Count];
        for (int row = 0; row < rows.Length; row++)
        {
            long id = newIds[row];
            int oldRow = _batchIds.IndexOf(id);
            rows[row] = oldRow >= 0
                ? new KvRowSource(newLengths[row], null, source, oldRow, _batchSlots)
                : new KvRowSource(newLengths[row], _detached[id]);
        }

        _store.Pack(target, slots, rows);
        foreach (long id in newIds)
        {
            if (_detached.Remove(id, out var kv))
            {
                kv.Dispose();
            }
        }

        _batchIds.Clear();
        _batchIds.AddRange(newIds);
        _batchLengths.Clear();
        _batchLengths.AddRange(newLengths);
        _batchSlots = slots;
        _current = 1 - _current;
    }

    /// <summary>position_ids' shape: [batch, seq], or [axes, batch, seq] for M-RoPE.</summary>
    private long[] PositionShape(int batch, int seq) => _positionAxes == 1 ? [batch, seq] : [_positionAxes, batch, seq];

    // ---------------------------------------------------------------- prefill
    private void Prefill(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        int b = _prefillRows.Count;
        int len = 0;
        foreach (int r in _prefillRows)
        {
            len = Math.Max(len, inputs[r].TokenIds.Length);
        }

        Grow(ref _ids, b * len);
        Grow(ref _positions, _positionAxes * b * len);
        Grow(ref _mask, b * len);
        for (int i = 0; i < b; i++)
        {
            var input = inputs[_prefillRows[i]];
            var tokens = input.TokenIds.Span;
            int pad = len - tokens.Length;
            var ids = _ids.AsSpan(i * len, len);
            var mask = _mask.AsSpan(i * len, len);
            ids[..pad].Clear();
            mask[..pad].Clear();
            mask[pad..].Fill(1);
            for (int j = 0; j < tokens.Length; j++)
            {
                ids[pad + j] = tokens[j];
            }

            for (int axis = 0; axis < _positionAxes; axis++)
            {
                var pos = _positions.AsSpan((((axis * b) + i) * len), len);
                pos[..pad].Clear();
                for (int j = 0; j < tokens.Length; j++)
                {
                    pos[pad + j] = input.Positions?.At(axis, input.StartPosition + j) ?? input.StartPosition + j;
                }
            }

            FillPrefillTokenTypes(input, i, b, len);
        }

        if (_device is null)
        {
            Embed(b, len, ct);
        }
        else
        {
            EmbedOnDevice(b, len, ct);
        }

        for (int i = 0; i < b; i++)
        {
            var input = inputs[_prefillRows[i]];
            SpliceMedia(input, ((i * len) + len - input.TokenIds.Length) * _hidden);
        }

        _store.EnsureCapacity(KvSet.Prefill, b * _kvHeads * len * _headDim);
        if (_device is null)
        {
            RunDecoder(b, len, 0, past: null, KvSet.Prefill, ct);
        }
        else
        {
            RunDecoderOnDevice(b, len, 0, past: null, KvSet.Prefill, ct);
        }

        for (int i = 0; i < b; i++)
        {
            int r = _prefillRows[i];
            var input = inputs[r];
            int n = input.TokenIds.Length;
            ReadLogits((i * len) + len - 1, output.GetLogits(r));
            if (input.WantHiddenStates && _hasHiddenOutput)
            {
                ReadHiddenStates((i * len) + len - n, output.GetHiddenStates(r)[..(n * _hidden)]);
            }

            _detached[input.SequenceId] = _store.Detach(KvSet.Prefill, i, len, n);
        }
    }

    /// <summary>Writes the input's media embeddings over its placeholder rows, its first token at <paramref name="rowStart"/> of the step's embeddings.</summary>
    private void SpliceMedia(SequenceInput input, int rowStart)
    {
        foreach (var media in input.Media)
        {
            if (_decoderTakesIds)
            {
                throw new InvalidOperationException($"sequence {input.SequenceId}: this model embeds token ids in its decoder and takes no media");
            }

            if (media.Start < 0 || media.Start + media.Length > input.TokenIds.Length || media.Embeddings.Length != media.Length * _hidden)
            {
                throw new InvalidOperationException($"sequence {input.SequenceId}: media span [{media.Start}, +{media.Length}) does not fit the prompt");
            }

            int at = rowStart + (media.Start * _hidden);
            if (_device is null)
            {
                media.Embeddings.Span.CopyTo(_embeds.AsSpan(at, media.Length * _hidden));
            }
            else
            {
                _device.SpliceEmbeddings(at, media.Embeddings.Span);
            }
        }
    }

    /// <summary>The logits of step row <paramref name="position"/> (batch row x sequence position, flattened).</summary>
    private void ReadLogits(int position, Span<float> destination)
    {
        if (_device is null)
        {
            _logits.AsSpan(position * _vocab, _vocab).CopyTo(destination);
        }
        else
        {
            _device.ReadLogits(position * _vocab, destination[.._vocab]);
        }
    }

    /// <summary>The hidden states from step row <paramref name="position"/> on, as many as <paramref name="destination"/> holds.</summary>
    private void ReadHiddenStates(int position, Span<float> destination)
    {
        if (_device is null)
        {
            _hiddenStates.AsSpan(position * _hidden, destination.Length).CopyTo(destination);
        }
        else
        {
            _device.ReadHiddenStates(position * _hidden, destination);
        }
    }

    // ---------------------------------------------------------------- ORT calls
    private void Embed(int batch, int seq, CancellationToken ct)
    {
        if (_embed is null)
        {
            return;
        }

        Grow(ref _embeds, batch * seq * _hidden);
        using var ids = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _ids.AsMemory(0, batch * seq), [batch, seq]);
        using var embeds = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _embeds.AsMemory(0, batch * seq * _hidden), [batch, seq, _hidden]);
        ct.ThrowIfCancellationRequested();
        if (_embedding!.EmptyFeatureInputs.Count == 0)
        {
            _embed.Run(_runOptions, [_embedding.InputIds], [ids], [_embedding.InputsEmbeds], [embeds]);
            return;
        }

        // Feature inputs (Phi-3-V's image_features) get no rows: media embeddings are spliced in afterwards.
        var names = new List<string> { _embedding.InputIds };
        var values = new List<OrtValue> { ids };
        try
        {
            foreach (var name in _embedding.EmptyFeatureInputs)
            {
                names.Add(name);
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, NoPast.AsMemory(0, 0), [0, _hidden]));
            }

            _embed.Run(_runOptions, names, values, [_embedding.InputsEmbeds], [embeds]);
        }
        finally
        {
            for (int i = 1; i < values.Count; i++)
            {
                values[i].Dispose();
            }
        }
    }

    private void RunDecoder(int batch, int seq, int pastSlots, KvSet? past, KvSet present, CancellationToken ct)
    {
        int total = pastSlots + seq;
        Grow(ref _logits, batch * seq * _vocab);
        Grow(ref _hiddenStates, batch * seq * _hidden);
        var values = new List<OrtValue>(_inputNames.Length + _outputNames.Length);
        try
        {
            values.Add(_decoderTakesIds
                ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _ids.AsMemory(0, batch * seq), [batch, seq])
                : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _embeds.AsMemory(0, batch * seq * _hidden), [batch, seq, _hidden]));
            values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _mask.AsMemory(0, batch * total), [batch, total]));
            if (_feedPositions)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _positions.AsMemory(0, _positionAxes * batch * seq), PositionShape(batch, seq)));
            }

            AddTokenTypes(values, batch, seq);
            long[] pastShape = [batch, _kvHeads, pastSlots, _headDim];
            for (int t = 0; t < 2 * _spec.NumLayers; t++)
            {
                values.Add(_store.View(past, t, pastShape));
            }

            int inputs = values.Count;
            values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _logits.AsMemory(0, batch * seq * _vocab), [batch, seq, _vocab]));
            if (_hasHiddenOutput)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _hiddenStates.AsMemory(0, batch * seq * _hidden), [batch, seq, _hidden]));
            }

            long[] presentShape = [batch, _kvHeads, total, _headDim];
            for (int t = 0; t < 2 * _spec.NumLayers; t++)
            {
                values.Add(_store.View(present, t, presentShape));
            }

            ct.ThrowIfCancellationRequested();
            _decoder.Run(_runOptions, _inputNames, values.GetRange(0, inputs), _outputNames, values.GetRange(inputs, values.Count - inputs));
        }
        finally
        {
            foreach (var v in values)
            {
                v.Dispose();
            }
        }
    }

    private static void Grow<T>(ref T[] buffer, int needed)
    {
        if (buffer.Length < needed)
        {
            buffer = new T[Math.Max(needed, buffer.Length * 3 / 2)];
        }
    }

    public void Dispose()
    {
        foreach (var kv in _detached.Values)
        {
            kv.Dispose();
        }

        _detached.Clear();
        _sharedStep?.Dispose();
        _store.Dispose();
        _device?.Dispose();
        _runOptions.Dispose();
        if (_ownsSessions)
        {
            _embed?.Dispose();
            _decoder.Dispose();
        }
    }
}
