using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Fuyu's encoder-free image path: the projector alone, image_patches [1, patches, patch_dim] → media_embeds
/// [1, patches, hidden]. Images differ in patch count, so each runs on its own (no fixed-size batching).
/// Thread-safe (ORT sessions allow concurrent runs).
/// </summary>
public sealed class PatchProjector : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _input;
    private readonly string _output;

    /// <exception cref="BundleValidationException">The component is not [batch, patches, patch_dim] → [batch, patches, hidden].</exception>
    public PatchProjector(ModelBundle bundle, string component, SessionFactory sessions, int patchDimension, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(sessions);
        var spec = bundle.Manifest.Components[component];
        if (spec.Inputs.Count != 1 || spec.Outputs.Count < 1 || spec.Inputs[0].Shape.Count != 3 || spec.Outputs[0].Shape.Count != 3
            || spec.Inputs[0].Shape[2].Size != patchDimension || spec.Outputs[0].Shape[2].Size != hiddenSize)
        {
            throw new BundleValidationException(
                $"{bundle.ManifestPath}: components.{component} must take one [batch, patches, {patchDimension}] input and "
                + $"yield [batch, patches, {hiddenSize}] (patch_size² x 3 values per patch, the decoder's hidden size)");
        }

        _input = spec.Inputs[0].Name;
        _output = spec.Outputs[0].Name;
        PatchDimension = patchDimension;
        HiddenSize = hiddenSize;
        _session = sessions.Create(bundle.ComponentPath(component));
    }

    public int PatchDimension { get; }

    public int HiddenSize { get; }

    /// <summary>patches x <see cref="PatchDimension"/> floats → patches x <see cref="HiddenSize"/> floats.</summary>
    public float[] Run(ReadOnlyMemory<float> patches, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        long count = patches.Length / PatchDimension;
        var pinned = System.Runtime.InteropServices.MemoryMarshal.AsMemory(patches);
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pinned, [1, count, PatchDimension]);
        using var runOptions = new RunOptions();
        using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        using var outputs = _session.Run(runOptions, [_input], [input], [_output]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose() => _session.Dispose();
}
