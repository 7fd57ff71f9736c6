using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Qwen2-VL's vision encoder (transformers.js / onnx-community layout): pixel_values [patches, 3·T·P·P] of any number
/// of images and videos concatenated, with one grid_thw row (t, h, w in patches) each → image_features
/// [patches / merge², hidden], rows in the same order. Items differ in length, so they do not go through
/// <see cref="ComponentBatcher"/>'s fixed-size items; several items may still share a run (their patches back to back).
/// Thread-safe (ORT sessions allow concurrent runs).
/// </summary>
public sealed class Qwen2VLVisionEncoder : IDisposable
{
    public const string PixelValues = "pixel_values";
    public const string GridThw = "grid_thw";
    public const string ImageFeatures = "image_features";

    private readonly InferenceSession _session;

    /// <param name="patchDimension">Floats per patch (1176 = 3 · 2 · 14 · 14).</param>
    /// <param name="mergeSize">Spatial merge size: merge² patches per output row.</param>
    /// <exception cref="BundleValidationException">The session's inputs or outputs are not Qwen2-VL's.</exception>
    public Qwen2VLVisionEncoder(ModelBundle bundle, string component, SessionFactory sessions, int patchDimension, int mergeSize, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(sessions);
        PatchDimension = patchDimension;
        MergeSize = mergeSize;
        HiddenSize = hiddenSize;
        var path = bundle.ComponentPath(component);
        _session = sessions.Create(path);
        try
        {
            var inputs = _session.InputMetadata;
            var errors = new List<string>();
            if (!inputs.TryGetValue(PixelValues, out var pixels) || pixels.Dimensions.Length != 2
                || (pixels.Dimensions[1] > 0 && pixels.Dimensions[1] != patchDimension))
            {
                errors.Add($"input '{PixelValues}' [patches, {patchDimension}]");
            }

            if (!inputs.TryGetValue(GridThw, out var grid) || grid.Dimensions.Length != 2 || grid.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64)
            {
                errors.Add($"input '{GridThw}' int64 [items, 3]");
            }

            if (!_session.OutputMetadata.TryGetValue(ImageFeatures, out var features) || features.Dimensions.Length != 2
                || (features.Dimensions[1] > 0 && features.Dimensions[1] != hiddenSize))
            {
                errors.Add($"output '{ImageFeatures}' [patches / {mergeSize * mergeSize}, {hiddenSize}]");
            }

            if (errors.Count > 0 || inputs.Count != 2)
            {
                throw new BundleValidationException(
                    $"{path}: expected {string.Join(", ", errors.DefaultIfEmpty($"exactly the inputs {PixelValues}, {GridThw}"))}; "
                    + $"it has inputs {string.Join(", ", inputs.Select(i => $"{i.Key} [{string.Join(", ", i.Value.Dimensions)}]"))} "
                    + $"and outputs {string.Join(", ", _session.OutputMetadata.Select(o => $"{o.Key} [{string.Join(", ", o.Value.Dimensions)}]"))}");
            }
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public int PatchDimension { get; }

    public int MergeSize { get; }

    public int HiddenSize { get; }

    /// <summary>Runs the patches of one or more items; returns (Σ t·h·w / merge²) × hidden floats, items in order.</summary>
    /// <param name="pixelValues">The items' patches back to back: Σ t·h·w rows of <see cref="PatchDimension"/>.</param>
    /// <param name="grids">One (t, h, w) per item, in patches.</param>
    /// <exception cref="OperationCanceledException">Or an ORT error, once <paramref name="ct"/> has terminated the run.</exception>
    public float[] Run(ReadOnlyMemory<float> pixelValues, IReadOnlyList<(int T, int H, int W)> grids, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(grids);
        ct.ThrowIfCancellationRequested();
        long patches = 0;
        var gridData = new long[grids.Count * 3];
        for (int i = 0; i < grids.Count; i++)
        {
            var (t, h, w) = grids[i];
            if (t <= 0 || h <= 0 || w <= 0 || h % MergeSize != 0 || w % MergeSize != 0)
            {
                throw new ArgumentException($"grid ({t}, {h}, {w}) is not a grid of {MergeSize}x{MergeSize} merge windows", nameof(grids));
            }

            (gridData[i * 3], gridData[(i * 3) + 1], gridData[(i * 3) + 2]) = (t, h, w);
            patches += (long)t * h * w;
        }

        if (grids.Count == 0 || pixelValues.Length != patches * PatchDimension)
        {
            throw new ArgumentException($"{pixelValues.Length} pixel values for {patches} patches of {PatchDimension}", nameof(pixelValues));
        }

        var pinned = MemoryMarshal.AsMemory(pixelValues);
        using var pixels = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pinned, [patches, PatchDimension]);
        using var grid = OrtValue.CreateTensorValueFromMemory(gridData, [grids.Count, 3]);
        using var runOptions = new RunOptions();
        using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        using var outputs = _session.Run(runOptions, [PixelValues, GridThw], [pixels, grid], [ImageFeatures]);
        var result = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        long expected = patches / (MergeSize * MergeSize) * HiddenSize;
        if (result.Length != expected)
        {
            throw new InvalidOperationException($"the vision encoder returned {result.Length} values for {patches} patches; expected {expected}");
        }

        return result;
    }

    public void Dispose() => _session.Dispose();
}
