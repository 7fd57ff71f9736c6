using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// A modality encoder followed by its input projector (e.g. image_encoder → image_projector): preprocessed
/// media in, LLM-space embeddings out. For video the encoder is the frame encoder: it runs on every frame
/// (items x frames rows) and the projector receives [items, frames, ...encoder output]. ORT sessions allow
/// concurrent Run calls, so one chain serves every request.
/// </summary>
public sealed class EncoderChain : IBatchedChain, IDisposable
{
    private readonly InferenceSession _encoder;
    private readonly InferenceSession _projector;
    private readonly string _encoderInput;
    private readonly string _encoderOutput;
    private readonly string _projectorInput;
    private readonly string _projectorOutput;
    private readonly long[] _itemShape;
    private readonly long[] _encoderOutputShape;
    private readonly int _framesPerItem;

    /// <param name="framesPerItem">Encoder rows per item: 1, or the frame count of a video.</param>
    public EncoderChain(ModelBundle bundle, string encoder, string projector, SessionFactory sessions, int framesPerItem = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(framesPerItem);
        _framesPerItem = framesPerItem;
        var components = bundle.Manifest.Components;
        var enc = components[encoder];
        var proj = components[projector];
        _encoderInput = enc.Inputs[0].Name;
        _encoderOutput = enc.Outputs[0].Name;
        _projectorInput = proj.Inputs[0].Name;
        _projectorOutput = proj.Outputs[0].Name;
        _itemShape = ComponentShapes.PerItem(bundle, encoder, "inputs[0]", enc.Inputs[0]);
        _encoderOutputShape = ComponentShapes.PerItem(bundle, encoder, "outputs[0]", enc.Outputs[0]);
        var outShape = proj.Outputs[0].Shape;
        TokensPerItem = (int)(outShape[1].Size ?? 0);
        HiddenSize = (int)(outShape[2].Size ?? 0);
        InputLength = (int)_itemShape.Aggregate(1L, (a, b) => a * b) * framesPerItem;
        _encoder = sessions.Create(bundle.ComponentPath(encoder));
        _projector = sessions.Create(bundle.ComponentPath(projector));
    }

    /// <summary>Floats of one preprocessed item (e.g. 3*64*64, or frames*3*64*64 for a video).</summary>
    public int InputLength { get; }

    public int TokensPerItem { get; }

    public int HiddenSize { get; }

    /// <summary>Floats of one item's embeddings (tokens x hidden).</summary>
    public int OutputLength => TokensPerItem * HiddenSize;

    float[] IBatchedChain.Run(ReadOnlyMemory<float> inputs, int count, CancellationToken ct) => Encode(inputs, count, ct);

    /// <summary>Encodes <paramref name="count"/> items laid out back to back; returns count x tokens x hidden floats.</summary>
    public float[] Encode(ReadOnlyMemory<float> inputs, int count, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        long[] shape = [count * _framesPerItem, .. _itemShape];
        var pinned = System.Runtime.InteropServices.MemoryMarshal.AsMemory(inputs[..(count * InputLength)]);
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pinned, shape);
        using var runOptions = new RunOptions();
        using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        using var features = _encoder.Run(runOptions, [_encoderInput], [input], [_encoderOutput]);
        if (_framesPerItem == 1)
        {
            using var embeds = _projector.Run(runOptions, [_projectorInput], [features[0]], [_projectorOutput]);
            return embeds[0].GetTensorDataAsSpan<float>().ToArray();
        }

        // Same floats, regrouped per item: [items * frames, ...] -> [items, frames, ...].
        var frameFeatures = features[0].GetTensorDataAsSpan<float>().ToArray();
        long[] grouped = [count, _framesPerItem, .. _encoderOutputShape];
        using var projectorInput = OrtValue.CreateTensorValueFromMemory(frameFeatures, grouped);
        using var videoEmbeds = _projector.Run(runOptions, [_projectorInput], [projectorInput], [_projectorOutput]);
        return videoEmbeds[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _projector.Dispose();
    }
}
