using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// The vision encoder of a Hugging Face export, which already ends in the projector (LLM-space embeddings out):
/// LLaVA's vision_encoder (pixel_values [batch, 3, H, W] → image_features [batch, tokens, hidden]) or Phi-3-V's
/// (pixel_values [1, crops, 3, 336, 336] + image_sizes [1, 2] → image_features [tokens, hidden], the token count
/// depending on the image size). For Phi-3-V each preprocessed item carries its padded height and width as its
/// last two floats, and items run one at a time (their outputs differ in length).
/// </summary>
public sealed class VisionEncoderChain : IBatchedChain, IDisposable
{
    public const string PixelValues = "pixel_values";
    public const string ImageSizes = "image_sizes";
    public const string ImageFeatures = "image_features";

    private readonly InferenceSession _session;
    private readonly long[] _pixelShape;
    private readonly int _pixelLength;
    private readonly bool _takesImageSizes;

    /// <param name="pixelShape">One item's pixel tensor without the batch dimension, e.g. [3, 336, 336] or [5, 3, 336, 336].</param>
    /// <param name="tokensPerItem">Embedding rows per item; 0 when they depend on the image (Phi-3-V).</param>
    /// <exception cref="BundleValidationException">The session's inputs or outputs are not the export's.</exception>
    public VisionEncoderChain(ModelBundle bundle, string component, SessionFactory sessions, long[] pixelShape, int tokensPerItem, int hiddenSize)
    {
        _pixelShape = pixelShape;
        _pixelLength = (int)pixelShape.Aggregate(1L, (a, b) => a * b);
        TokensPerItem = tokensPerItem;
        HiddenSize = hiddenSize;
        var path = bundle.ComponentPath(component);
        _session = sessions.Create(path);
        try
        {
            _takesImageSizes = _session.InputMetadata.ContainsKey(ImageSizes);
            var missing = new[] { PixelValues }.Where(n => !_session.InputMetadata.ContainsKey(n))
                .Concat(new[] { ImageFeatures }.Where(n => !_session.OutputMetadata.ContainsKey(n)))
                .ToList();
            if (missing.Count > 0 || _takesImageSizes != (tokensPerItem == 0))
            {
                throw new BundleValidationException(
                    $"{path}: expected inputs {PixelValues}{(tokensPerItem == 0 ? $", {ImageSizes}" : "")} and output {ImageFeatures}; "
                    + $"it has inputs {string.Join(", ", _session.InputMetadata.Keys)} and outputs {string.Join(", ", _session.OutputMetadata.Keys)}");
            }
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>Pixels of one item, plus its height and width when the encoder takes image_sizes.</summary>
    public int InputLength => _pixelLength + (_takesImageSizes ? 2 : 0);

    /// <summary>0 when it varies per item.</summary>
    public int TokensPerItem { get; }

    public int HiddenSize { get; }

    /// <summary>Floats of one item's embeddings; for a variable-length encoder, the whole output of its single-item run.</summary>
    public int OutputLength => TokensPerItem * HiddenSize;

    /// <summary>Items a run may take: one when outputs differ in length.</summary>
    public int MaxBatch(int configured) => _takesImageSizes ? 1 : configured;

    public float[] Run(ReadOnlyMemory<float> inputs, int count, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (_takesImageSizes && count != 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "a variable-length encoder runs one item at a time");
        }

        var pinned = MemoryMarshal.AsMemory(inputs[..(count * _pixelLength)]);
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pinned, [count, .. _pixelShape]) };
        var names = new List<string> { PixelValues };
        try
        {
            if (_takesImageSizes)
            {
                var size = inputs.Span[_pixelLength..];
                values.Add(OrtValue.CreateTensorValueFromMemory(new[] { (long)size[0], (long)size[1] }, [1, 2]));
                names.Add(ImageSizes);
            }

            using var runOptions = new RunOptions();
            using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
            using var features = _session.Run(runOptions, names, values, [ImageFeatures]);
            var output = features[0].GetTensorDataAsSpan<float>().ToArray();
            if (output.Length % HiddenSize != 0 || (TokensPerItem > 0 && output.Length != count * OutputLength))
            {
                throw new InvalidOperationException(
                    $"the vision encoder returned {output.Length} values for {count} item(s); expected rows of {HiddenSize}{(TokensPerItem > 0 ? $", {TokensPerItem} per item" : "")}");
            }

            return output;
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    public void Dispose() => _session.Dispose();
}
