using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// A raw-tensor modality's encoder and projector (PandaGPT / ImageBind style): one item runs alone with a batch
/// dimension of 1 in front of its own shape (items of a modality may differ in length, e.g. IMU traces), the
/// encoder's output goes straight into the projector, whose output must be tokens_per_item × hidden. Thread-safe
/// (ORT sessions allow concurrent runs).
/// </summary>
public sealed class TensorEncoderChain : IDisposable
{
    private readonly InferenceSession _encoder;
    private readonly InferenceSession _projector;
    private readonly string _encoderInput;
    private readonly string _encoderOutput;
    private readonly string _projectorInput;
    private readonly string _projectorOutput;
    private readonly int _tokens;
    private readonly int _hidden;

    public TensorEncoderChain(ModelBundle bundle, string encoder, string projector, SessionFactory sessions, int tokensPerItem, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(sessions);
        var enc = bundle.Manifest.Components[encoder];
        var proj = bundle.Manifest.Components[projector];
        if (enc.Inputs.Count != 1 || enc.Outputs.Count < 1 || proj.Inputs.Count != 1 || proj.Outputs.Count < 1)
        {
            throw new BundleValidationException($"{bundle.ManifestPath}: a tensor modality's encoder and projector take one input each ('{encoder}', '{projector}')");
        }

        _encoderInput = enc.Inputs[0].Name;
        _encoderOutput = enc.Outputs[0].Name;
        _projectorInput = proj.Inputs[0].Name;
        _projectorOutput = proj.Outputs[0].Name;
        _tokens = tokensPerItem;
        _hidden = hiddenSize;
        _encoder = sessions.Create(bundle.ComponentPath(encoder));
        try
        {
            _projector = sessions.Create(bundle.ComponentPath(projector));
        }
        catch
        {
            _encoder.Dispose();
            throw;
        }
    }

    /// <summary>One item (<paramref name="shape"/> without the batch dimension) → tokens × hidden floats.</summary>
    /// <exception cref="OperationCanceledException">Or an ORT error, once <paramref name="ct"/> has terminated the run.</exception>
    public float[] Run(ReadOnlyMemory<float> values, long[] shape, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ct.ThrowIfCancellationRequested();
        using var runOptions = new RunOptions();
        using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        using var input = OrtValue.CreateTensorValueFromMemory(
            OrtMemoryInfo.DefaultInstance, System.Runtime.InteropServices.MemoryMarshal.AsMemory(values), [1, .. shape]);
        using var features = _encoder.Run(runOptions, [_encoderInput], [input], [_encoderOutput]);
        using var embeds = _projector.Run(runOptions, [_projectorInput], [features[0]], [_projectorOutput]);
        var outShape = embeds[0].GetTensorTypeAndShape().Shape;
        if (outShape.Length != 3 || outShape[0] != 1 || outShape[1] != _tokens || outShape[2] != _hidden)
        {
            throw new InvalidOperationException($"the tensor projector returned [{string.Join(", ", outShape)}]; expected [1, {_tokens}, {_hidden}]");
        }

        return embeds[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _projector.Dispose();
    }
}
