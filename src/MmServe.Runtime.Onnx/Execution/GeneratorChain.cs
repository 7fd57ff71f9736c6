using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// An output modality's output projector followed by its generator (e.g. image_output_projector →
/// image_generator): the LLM's hidden states at the signal tokens in, raw media samples out (an image tensor, a
/// waveform). ORT sessions allow concurrent Run calls, so one chain serves every request.
/// </summary>
public sealed class GeneratorChain : IBatchedChain, IDisposable
{
    private readonly InferenceSession _projector;
    private readonly InferenceSession _generator;
    private readonly string _projectorInput;
    private readonly string _projectorOutput;
    private readonly string _generatorInput;
    private readonly string _generatorOutput;
    private readonly long[] _itemShape;

    public GeneratorChain(ModelBundle bundle, OutputModalitySpec modality, SessionFactory sessions)
    {
        var components = bundle.Manifest.Components;
        var projector = components[modality.OutputProjector];
        var generator = components[modality.Generator];
        _projectorInput = projector.Inputs[0].Name;
        _projectorOutput = projector.Outputs[0].Name;
        _generatorInput = generator.Inputs[0].Name;
        _generatorOutput = generator.Outputs[0].Name;
        _itemShape = ComponentShapes.PerItem(bundle, modality.OutputProjector, "inputs[0]", projector.Inputs[0]);
        var outputShape = ComponentShapes.PerItem(bundle, modality.Generator, "outputs[0]", generator.Outputs[0]);
        SignalTokens = (int)_itemShape[0];
        InputLength = checked((int)_itemShape.Aggregate(1L, (a, b) => a * b));
        OutputLength = checked((int)outputShape.Aggregate(1L, (a, b) => a * b));
        OutputShape = outputShape;
        _projector = sessions.Create(bundle.ComponentPath(modality.OutputProjector));
        _generator = sessions.Create(bundle.ComponentPath(modality.Generator));
    }

    /// <summary>Signal-token hidden states one item takes (the projector input's first non-batch dimension).</summary>
    public int SignalTokens { get; }

    /// <summary>Floats of one item's input: signal tokens x hidden size.</summary>
    public int InputLength { get; }

    /// <summary>Floats of one generated item (e.g. 3*64*64 pixels or 16000 samples).</summary>
    public int OutputLength { get; }

    /// <summary>The generator output's shape without the batch dimension.</summary>
    public IReadOnlyList<long> OutputShape { get; }

    public float[] Run(ReadOnlyMemory<float> inputs, int count, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        long[] shape = [count, .. _itemShape];
        var pinned = System.Runtime.InteropServices.MemoryMarshal.AsMemory(inputs[..(count * InputLength)]);
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pinned, shape);
        using var runOptions = new RunOptions();
        using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        using var condition = _projector.Run(runOptions, [_projectorInput], [input], [_projectorOutput]);
        ct.ThrowIfCancellationRequested();
        using var media = _generator.Run(runOptions, [_generatorInput], [condition[0]], [_generatorOutput]);
        return media[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _projector.Dispose();
        _generator.Dispose();
    }
}
