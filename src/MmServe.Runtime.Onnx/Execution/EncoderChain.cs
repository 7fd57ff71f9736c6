using Microsoft.ML.OnnxRuntime;
using MmServe.Runtime.Onnx.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// A modality encoder followed by its input projector (e.g. image_encoder → image_projector): preprocessed
/// media in, LLM-space embeddings out. ORT sessions allow concurrent Run calls, so one chain serves every request.
/// </summary>
public sealed class EncoderChain : IDisposable
{
    private readonly InferenceSession _encoder;
    private readonly InferenceSession _projector;
    private readonly string _encoderInput;
    private readonly string _encoderOutput;
    private readonly string _projectorInput;
    private readonly string _projectorOutput;
    private readonly long[] _itemShape;

    public EncoderChain(ModelBundle bundle, string encoder, string projector, SessionFactory sessions)
    {
        var components = bundle.Manifest.Components;
        var enc = components[encoder];
        var proj = components[projector];
        _encoderInput = enc.Inputs[0].Name;
        _encoderOutput = enc.Outputs[0].Name;
        _projectorInput = proj.Inputs[0].Name;
        _projectorOutput = proj.Outputs[0].Name;
        // Every dimension after the batch one is fixed in the manifest (e.g. [batch, 3, 64, 64]).
        _itemShape = [.. enc.Inputs[0].Shape.Skip(1).Select(d => d.Size ?? throw new BundleValidationException($"{bundle.ManifestPath}: components.{encoder}.inputs[0].shape: only the batch dimension may be symbolic"))];
        var outShape = proj.Outputs[0].Shape;
        TokensPerItem = (int)(outShape[1].Size ?? 0);
        HiddenSize = (int)(outShape[2].Size ?? 0);
        InputLength = (int)_itemShape.Aggregate(1L, (a, b) => a * b);
        _encoder = sessions.Create(bundle.ComponentPath(encoder));
        _projector = sessions.Create(bundle.ComponentPath(projector));
    }

    /// <summary>Floats of one preprocessed item (e.g. 3*64*64).</summary>
    public int InputLength { get; }

    public int TokensPerItem { get; }

    public int HiddenSize { get; }

    /// <summary>Encodes <paramref name="count"/> items laid out back to back; returns count x tokens x hidden floats.</summary>
    public float[] Encode(ReadOnlyMemory<float> inputs, int count, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        long[] shape = [count, .. _itemShape];
        var pinned = System.Runtime.InteropServices.MemoryMarshal.AsMemory(inputs[..(count * InputLength)]);
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pinned, shape);
        using var runOptions = new RunOptions();
        using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        using var features = _encoder.Run(runOptions, [_encoderInput], [input], [_encoderOutput]);
        using var embeds = _projector.Run(runOptions, [_projectorInput], [features[0]], [_projectorOutput]);
        return embeds[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _projector.Dispose();
    }
}
