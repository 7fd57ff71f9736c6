using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;

namespace MmServe.Runtime.Onnx.EncoderDecoder;

/// <summary>
/// Runs a seq2seq model's encoder session (Whisper's <c>encoder_model.onnx</c>: <c>input_features</c> float
/// [batch, mels, frames] → <c>last_hidden_state</c> [batch, positions, d_model]) over several requests' features at
/// once and splits the result into one <see cref="EncoderOutput"/> per item. Thread-safe (ORT sessions are).
/// </summary>
public sealed class OnnxSpeechEncoder : IDisposable
{
    public const string InputFeatures = "input_features";
    public const string LastHiddenState = "last_hidden_state";

    private readonly InferenceSession _session;
    private readonly bool _ownsSession;

    public OnnxSpeechEncoder(InferenceSession session, int mels, int frames, bool ownsSession = true)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _ownsSession = ownsSession;
        Mels = mels;
        Frames = frames;
        if (!session.InputMetadata.ContainsKey(InputFeatures) || !session.OutputMetadata.ContainsKey(LastHiddenState))
        {
            throw new Model.Bundle.BundleValidationException($"encoder_model.onnx: expected input '{InputFeatures}' and output '{LastHiddenState}'");
        }
    }

    public int Mels { get; }

    public int Frames { get; }

    /// <param name="features">Each item: mels x frames floats, row-major.</param>
    public EncoderOutput[] Encode(IReadOnlyList<ReadOnlyMemory<float>> features, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        int batch = features.Count;
        int perItem = Mels * Frames;
        var input = new float[batch * perItem];
        for (int i = 0; i < batch; i++)
        {
            if (features[i].Length != perItem)
            {
                throw new ArgumentException($"Item {i} has {features[i].Length} feature values; {Mels} x {Frames} are needed.", nameof(features));
            }

            features[i].Span.CopyTo(input.AsSpan(i * perItem));
        }

        using var options = new RunOptions();
        using var cancel = ct.Register(static o => ((RunOptions)o!).Terminate = true, options);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [batch, Mels, Frames]);
        try
        {
            using var results = _session.Run(options, [InputFeatures], [value], [LastHiddenState]);
            var shape = results[0].GetTensorTypeAndShape().Shape;
            int positions = checked((int)shape[1]);
            int width = checked((int)shape[2]);
            var all = results[0].GetTensorDataAsSpan<float>();
            var outputs = new EncoderOutput[batch];
            for (int i = 0; i < batch; i++)
            {
                outputs[i] = new EncoderOutput(all.Slice(i * positions * width, positions * width).ToArray(), positions, width);
            }

            return outputs;
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
    }

    public void Dispose()
    {
        if (_ownsSession)
        {
            _session.Dispose();
        }
    }
}
