using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// The decode step of the shared-buffer path, bound once per batch size through IOBinding: token ids, embeddings,
/// an attention_mask as wide as the KV buffer (its ones say each row's length, so its shape never changes), positions,
/// logits, hidden states and the KV views all keep their shapes and memory from step to step, so a steady step only
/// writes the new tokens and mask ones and runs — no OrtValue, shape or name array is made per step. The bindings of
/// every batch size met are kept, so a batch that grows or shrinks (a join, a leave) only switches to another set.
/// Its arrays are allocated once for the largest batch and never replaced (the bindings point into them).
/// </summary>
internal sealed class SharedDecodeStep : IDisposable
{
    private static readonly float[] NoFeatures = new float[1]; // ORT wants a real pointer, even for zero rows
    private readonly InferenceSession? _embedSession;
    private readonly InferenceSession _decoderSession;
    private readonly EmbeddingSpec? _embedding;
    private readonly DecoderSpec _spec;
    private readonly string[] _kvInputs;
    private readonly string[] _kvOutputs;
    private readonly bool _feedPositions;
    private readonly int _positionAxes;
    private readonly Func<int, int, OrtValue> _kvView;
    private readonly Dictionary<int, Bindings> _byBatch = [];
    private Bindings? _current;

    /// <param name="kvView">The view of KV tensor t over the first b rows of the shared buffer: (t, b) → [b, kv_heads, max_length, head_dim].</param>
    public SharedDecodeStep(
        InferenceSession? embed, InferenceSession decoder, EmbeddingSpec? embedding, DecoderSpec spec, bool feedPositions, int maxBatch, int maxLength,
        Func<int, int, OrtValue> kvView)
    {
        _kvView = kvView;
        _embedSession = embed;
        _decoderSession = decoder;
        _embedding = embedding;
        _spec = spec;
        _feedPositions = feedPositions;
        _positionAxes = spec.PositionAxes;
        MaxLength = maxLength;
        _kvInputs = [.. Enumerable.Range(0, spec.NumLayers).SelectMany(l => new[] { spec.PastKeyName(l), spec.PastValueName(l) })];
        _kvOutputs = [.. Enumerable.Range(0, spec.NumLayers).SelectMany(l => new[] { spec.PresentKeyName(l), spec.PresentValueName(l) })];
        Ids = new long[maxBatch];
        Embeds = embed is null ? [] : new float[maxBatch * spec.HiddenSize];
        Mask = new long[maxBatch * maxLength];
        Positions = new long[_positionAxes * maxBatch];
        Logits = new float[maxBatch * spec.VocabSize];
        HiddenStates = spec.HiddenStates is null ? [] : new float[maxBatch * spec.HiddenSize];
    }

    /// <summary>The batch the current bindings are for (0: none yet).</summary>
    public int Batch => _current?.Batch ?? 0;

    public int MaxLength { get; }

    public long[] Ids { get; }

    public float[] Embeds { get; }

    /// <summary>[batch, max_length]: row r has as many leading ones as its KV will hold after this step.</summary>
    public long[] Mask { get; }

    /// <summary>[axes, batch, 1].</summary>
    public long[] Positions { get; }

    public float[] Logits { get; }

    public float[] HiddenStates { get; }

    /// <summary>Makes the bindings for <paramref name="batch"/> rows current (binding them the first time).</summary>
    public void Use(int batch)
    {
        if (_current?.Batch == batch)
        {
            return;
        }

        if (!_byBatch.TryGetValue(batch, out var bindings))
        {
            bindings = Bind(batch);
            _byBatch[batch] = bindings;
        }

        _current = bindings;
    }

    /// <summary>Embeds <see cref="Ids"/> (when the decoder takes embeddings) and runs the decoder over the current bindings.</summary>
    public void Run(RunOptions options)
    {
        var bindings = _current ?? throw new InvalidOperationException("no batch size is bound");
        if (bindings.Embed is not null)
        {
            _embedSession!.RunWithBinding(options, bindings.Embed);
        }

        _decoderSession.RunWithBinding(options, bindings.Decoder);
    }

    public void Dispose()
    {
        foreach (var bindings in _byBatch.Values)
        {
            bindings.Dispose();
        }

        _byBatch.Clear();
        _current = null;
    }

    private Bindings Bind(int batch)
    {
        var values = new List<OrtValue>();
        OrtValue Add(OrtValue value)
        {
            values.Add(value);
            return value;
        }

        var info = OrtMemoryInfo.DefaultInstance;
        var ids = Add(OrtValue.CreateTensorValueFromMemory(info, Ids.AsMemory(0, batch), [batch, 1]));
        var decoder = _decoderSession.CreateIoBinding();
        OrtIoBinding? embedBinding = null;
        if (_embedSession is not null)
        {
            var embeds = Add(OrtValue.CreateTensorValueFromMemory(info, Embeds.AsMemory(0, batch * _spec.HiddenSize), [batch, 1, _spec.HiddenSize]));
            embedBinding = _embedSession.CreateIoBinding();
            embedBinding.BindInput(_embedding!.InputIds, ids);
            foreach (var name in _embedding.EmptyFeatureInputs)
            {
                embedBinding.BindInput(name, Add(OrtValue.CreateTensorValueFromMemory(info, NoFeatures.AsMemory(0, 0), [0, _spec.HiddenSize])));
            }

            embedBinding.BindOutput(_embedding.InputsEmbeds, embeds);
            decoder.BindInput(_spec.InputsEmbeds, embeds);
        }
        else
        {
            decoder.BindInput(_spec.InputIds!, ids);
        }

        decoder.BindInput(_spec.AttentionMask, Add(OrtValue.CreateTensorValueFromMemory(info, Mask.AsMemory(0, batch * MaxLength), [batch, MaxLength])));
        if (_feedPositions)
        {
            long[] shape = _positionAxes == 1 ? [batch, 1] : [_positionAxes, batch, 1];
            decoder.BindInput(_spec.PositionIds, Add(OrtValue.CreateTensorValueFromMemory(info, Positions.AsMemory(0, _positionAxes * batch), shape)));
        }

        decoder.BindOutput(_spec.Logits, Add(OrtValue.CreateTensorValueFromMemory(info, Logits.AsMemory(0, batch * _spec.VocabSize), [batch, 1, _spec.VocabSize])));
        if (_spec.HiddenStates is { } hidden)
        {
            decoder.BindOutput(hidden, Add(OrtValue.CreateTensorValueFromMemory(info, HiddenStates.AsMemory(0, batch * _spec.HiddenSize), [batch, 1, _spec.HiddenSize])));
        }

        for (int t = 0; t < _kvInputs.Length; t++)
        {
            var view = Add(_kvView(t, batch));
            decoder.BindInput(_kvInputs[t], view);
            decoder.BindOutput(_kvOutputs[t], view);
        }

        return new Bindings(batch, embedBinding, decoder, values);
    }

    /// <summary>The bindings of one batch size and the OrtValues they point at.</summary>
    private sealed record Bindings(int Batch, OrtIoBinding? Embed, OrtIoBinding Decoder, List<OrtValue> Values) : IDisposable
    {
        public void Dispose()
        {
            Embed?.Dispose();
            Decoder.Dispose();
            foreach (var value in Values)
            {
                value.Dispose();
            }
        }
    }
}
