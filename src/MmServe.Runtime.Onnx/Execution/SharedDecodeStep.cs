using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// The decode step of the shared-buffer path, bound once per batch size through IOBinding: token ids, embeddings,
/// an attention_mask as wide as the KV buffer (its ones say each row's length, so its shape never changes), positions,
/// logits, hidden states and the KV views all keep their shapes and memory from step to step, so a steady step only
/// writes the new tokens and mask ones and runs — no OrtValue, shape or name array is made per step. Its arrays are
/// allocated once for the largest batch and never replaced (the bindings point into them).
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
    private readonly List<OrtValue> _values = [];
    private OrtIoBinding? _embedBinding;
    private OrtIoBinding? _decoderBinding;

    public SharedDecodeStep(
        InferenceSession? embed, InferenceSession decoder, EmbeddingSpec? embedding, DecoderSpec spec, bool feedPositions, int maxBatch, int maxLength)
    {
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

    /// <summary>The batch the bindings are for (0: none yet).</summary>
    public int Batch { get; private set; }

    public int MaxLength { get; }

    public long[] Ids { get; }

    public float[] Embeds { get; }

    /// <summary>[batch, max_length]: row r has as many leading ones as its KV will hold after this step.</summary>
    public long[] Mask { get; }

    /// <summary>[axes, batch, 1].</summary>
    public long[] Positions { get; }

    public float[] Logits { get; }

    public float[] HiddenStates { get; }

    /// <summary>Binds every tensor for <paramref name="batch"/> rows, the KV as <paramref name="kvViews"/> (past and present alike).</summary>
    public void Bind(int batch, IReadOnlyList<OrtValue> kvViews)
    {
        Unbind();
        var info = OrtMemoryInfo.DefaultInstance;
        var ids = Add(OrtValue.CreateTensorValueFromMemory(info, Ids.AsMemory(0, batch), [batch, 1]));
        _decoderBinding = _decoderSession.CreateIoBinding();
        if (_embedSession is not null)
        {
            var embeds = Add(OrtValue.CreateTensorValueFromMemory(info, Embeds.AsMemory(0, batch * _spec.HiddenSize), [batch, 1, _spec.HiddenSize]));
            _embedBinding = _embedSession.CreateIoBinding();
            _embedBinding.BindInput(_embedding!.InputIds, ids);
            foreach (var name in _embedding.EmptyFeatureInputs)
            {
                _embedBinding.BindInput(name, Add(OrtValue.CreateTensorValueFromMemory(info, NoFeatures.AsMemory(0, 0), [0, _spec.HiddenSize])));
            }

            _embedBinding.BindOutput(_embedding.InputsEmbeds, embeds);
            _decoderBinding.BindInput(_spec.InputsEmbeds, embeds);
        }
        else
        {
            _decoderBinding.BindInput(_spec.InputIds!, ids);
        }

        _decoderBinding.BindInput(_spec.AttentionMask, Add(OrtValue.CreateTensorValueFromMemory(info, Mask.AsMemory(0, batch * MaxLength), [batch, MaxLength])));
        if (_feedPositions)
        {
            long[] shape = _positionAxes == 1 ? [batch, 1] : [_positionAxes, batch, 1];
            _decoderBinding.BindInput(_spec.PositionIds, Add(OrtValue.CreateTensorValueFromMemory(info, Positions.AsMemory(0, _positionAxes * batch), shape)));
        }

        _decoderBinding.BindOutput(_spec.Logits, Add(OrtValue.CreateTensorValueFromMemory(info, Logits.AsMemory(0, batch * _spec.VocabSize), [batch, 1, _spec.VocabSize])));
        if (_spec.HiddenStates is { } hidden)
        {
            _decoderBinding.BindOutput(hidden, Add(OrtValue.CreateTensorValueFromMemory(info, HiddenStates.AsMemory(0, batch * _spec.HiddenSize), [batch, 1, _spec.HiddenSize])));
        }

        for (int t = 0; t < kvViews.Count; t++)
        {
            _decoderBinding.BindInput(_kvInputs[t], kvViews[t]);
            _decoderBinding.BindOutput(_kvOutputs[t], kvViews[t]);
        }

        Batch = batch;
    }

    /// <summary>Embeds <see cref="Ids"/> (when the decoder takes embeddings) and runs the decoder over the bound tensors.</summary>
    public void Run(RunOptions options)
    {
        if (_embedBinding is not null)
        {
            _embedSession!.RunWithBinding(options, _embedBinding);
        }

        _decoderSession.RunWithBinding(options, _decoderBinding!);
    }

    public void Dispose() => Unbind();

    private OrtValue Add(OrtValue value)
    {
        _values.Add(value);
        return value;
    }

    private void Unbind()
    {
        _embedBinding?.Dispose();
        _decoderBinding?.Dispose();
        _embedBinding = null;
        _decoderBinding = null;
        foreach (var value in _values)
        {
            value.Dispose();
        }

        _values.Clear();
        Batch = 0;
    }
}
