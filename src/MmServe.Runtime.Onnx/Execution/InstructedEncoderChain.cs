using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// An image encoder followed by an instruction-aware projector (InstructBLIP's Q-Former): the projector takes the
/// encoder features and the instruction's token ids and mask (manifest "instruction"). One item is laid out as
/// <c>[pixels..., ids..., mask...]</c> (ids and mask as floats, exact below 2^24), so items stay fixed-size and
/// <see cref="ComponentBatcher"/> batches them like any other chain.
/// </summary>
public sealed class InstructedEncoderChain : IBatchedChain, IDisposable
{
    private readonly InferenceSession _encoder;
    private readonly InferenceSession _projector;
    private readonly string _encoderInput;
    private readonly string _encoderOutput;
    private readonly string _featuresInput;
    private readonly string _idsInput;
    private readonly string _maskInput;
    private readonly string _projectorOutput;
    private readonly long[] _pixelShape;

    public InstructedEncoderChain(ModelBundle bundle, string encoder, string projector, ProjectorInstructionSpec instruction, SessionFactory sessions)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(instruction);
        var enc = bundle.Manifest.Components[encoder];
        var proj = bundle.Manifest.Components[projector];
        _encoderInput = enc.Inputs[0].Name;
        _encoderOutput = enc.Outputs[0].Name;
        _idsInput = instruction.IdsInput;
        _maskInput = instruction.MaskInput;
        _featuresInput = proj.Inputs.FirstOrDefault(i => i.Name != _idsInput && i.Name != _maskInput)?.Name
            ?? throw new BundleValidationException($"{bundle.ManifestPath}: components.{projector} has no input for the encoder's features");
        _projectorOutput = proj.Outputs[0].Name;
        _pixelShape = ComponentShapes.PerItem(bundle, encoder, "inputs[0]", enc.Inputs[0]);
        MaxInstructionTokens = instruction.MaxTokens;
        PixelLength = (int)_pixelShape.Aggregate(1L, (a, b) => a * b);
        var outShape = proj.Outputs[0].Shape;
        TokensPerItem = (int)(outShape[1].Size ?? 0);
        HiddenSize = (int)(outShape[2].Size ?? 0);
        _encoder = sessions.Create(bundle.ComponentPath(encoder));
        _projector = sessions.Create(bundle.ComponentPath(projector));
    }

    /// <summary>Floats of the preprocessed image at the start of an item.</summary>
    public int PixelLength { get; }

    public int MaxInstructionTokens { get; }

    public int TokensPerItem { get; }

    public int HiddenSize { get; }

    public int InputLength => PixelLength + (2 * MaxInstructionTokens);

    public int OutputLength => TokensPerItem * HiddenSize;

    public float[] Run(ReadOnlyMemory<float> inputs, int count, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        int t = MaxInstructionTokens;
        var pixels = new float[count * PixelLength];
        var ids = new long[count * t];
        var mask = new long[count * t];
        var all = inputs.Span;
        for (int i = 0; i < count; i++)
        {
            var item = all.Slice(i * InputLength, InputLength);
            item[..PixelLength].CopyTo(pixels.AsSpan(i * PixelLength));
            for (int k = 0; k < t; k++)
            {
                ids[(i * t) + k] = (long)item[PixelLength + k];
                mask[(i * t) + k] = (long)item[PixelLength + t + k];
            }
        }

        using var pixelValue = OrtValue.CreateTensorValueFromMemory(pixels, [count, .. _pixelShape]);
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [count, t]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [count, t]);
        using var runOptions = new RunOptions();
        using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        using var features = _encoder.Run(runOptions, [_encoderInput], [pixelValue], [_encoderOutput]);
        using var embeds = _projector.Run(
            runOptions, [_featuresInput, _idsInput, _maskInput], [features[0], idsValue, maskValue], [_projectorOutput]);
        return embeds[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _projector.Dispose();
    }
}
