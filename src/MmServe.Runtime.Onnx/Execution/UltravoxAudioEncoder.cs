using Microsoft.ML.OnnxRuntime;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Ultravox's audio encoder (transformers.js / onnx-community layout, onnx/audio_encoder.onnx): audio_values
/// [batch, mels, frames] (one clip's log-mel at its own length) → audio_features [batch, tokens, hidden], the Whisper
/// encoder and the stacking projector in one graph. Clips differ in length and the encoder attends across a clip's
/// frames, so each clip runs alone (batch 1). Thread-safe (ORT sessions allow concurrent runs).
/// </summary>
public sealed class UltravoxAudioEncoder : IDisposable
{
    public const string AudioValues = "audio_values";
    public const string AudioFeatures = "audio_features";

    private readonly InferenceSession _session;

    /// <exception cref="BundleValidationException">The session's inputs or outputs are not Ultravox's.</exception>
    public UltravoxAudioEncoder(ModelBundle bundle, string component, SessionFactory sessions, int mels, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(sessions);
        Mels = mels;
        HiddenSize = hiddenSize;
        var path = bundle.ComponentPath(component);
        _session = sessions.Create(path);
        var inputs = _session.InputMetadata;
        bool inputOk = inputs.Count == 1 && inputs.TryGetValue(AudioValues, out var values) && values.Dimensions.Length == 3
            && (values.Dimensions[1] <= 0 || values.Dimensions[1] == mels);
        bool outputOk = _session.OutputMetadata.TryGetValue(AudioFeatures, out var features) && features.Dimensions.Length == 3
            && (features.Dimensions[2] <= 0 || features.Dimensions[2] == hiddenSize);
        if (!inputOk || !outputOk)
        {
            var shapes = string.Join(", ", inputs.Select(i => $"input {i.Key} [{string.Join(", ", i.Value.Dimensions)}]")
                .Concat(_session.OutputMetadata.Select(o => $"output {o.Key} [{string.Join(", ", o.Value.Dimensions)}]")));
            _session.Dispose();
            throw new BundleValidationException(
                $"{path}: expected the one input '{AudioValues}' [batch, {mels}, frames] and output '{AudioFeatures}' [batch, tokens, {hiddenSize}]; it has {shapes}");
        }
    }

    public int Mels { get; }

    public int HiddenSize { get; }

    /// <summary>One clip's features ([mels, frames] row-major) → its rows: tokens × hidden floats.</summary>
    /// <exception cref="OperationCanceledException">Or an ORT error, once <paramref name="ct"/> has terminated the run.</exception>
    public float[] Run(ReadOnlyMemory<float> features, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (features.Length == 0 || features.Length % Mels != 0)
        {
            throw new ArgumentException($"{features.Length} feature values are not whole frames of {Mels} mels", nameof(features));
        }

        using var input = OrtValue.CreateTensorValueFromMemory(
            OrtMemoryInfo.DefaultInstance, System.Runtime.InteropServices.MemoryMarshal.AsMemory(features), [1, Mels, features.Length / Mels]);
        using var runOptions = new RunOptions();
        using var registration = ct.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        using var outputs = _session.Run(runOptions, [AudioValues], [input], [AudioFeatures]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 3 || shape[0] != 1 || shape[2] != HiddenSize)
        {
            throw new InvalidOperationException($"the audio encoder returned [{string.Join(", ", shape)}]; expected [1, tokens, {HiddenSize}]");
        }

        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose() => _session.Dispose();
}
