using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.EncoderDecoder;

/// <summary>
/// Florence-2's encoder side for one request, as transformers.js's <c>Florence2ForConditionalGeneration</c> runs it:
/// <c>vision_encoder(pixel_values)</c> → image features [1, N, d]; <c>embed_tokens(input_ids)</c> → prompt embeds
/// [1, P, d]; <c>encoder_model(inputs_embeds = [image features; prompt embeds], attention_mask = ones)</c> →
/// <c>last_hidden_state</c> [1, N + P, d], the <see cref="EncoderOutput"/> the decoder attends to.
/// One request per run: prompts differ in length and the encoder would need padding to batch them.
/// Thread-safe (ORT sessions are); the embed_tokens session is also the decoder executor's.
/// </summary>
public sealed class OnnxFlorence2Encoder : IDisposable
{
    public const string PixelValues = "pixel_values";
    public const string ImageFeatures = "image_features";
    public const string InputIds = "input_ids";
    public const string InputsEmbeds = "inputs_embeds";
    public const string AttentionMask = "attention_mask";
    public const string LastHiddenState = "last_hidden_state";

    private readonly InferenceSession _vision;
    private readonly InferenceSession _encoder;

    public OnnxFlorence2Encoder(InferenceSession vision, InferenceSession embedTokens, InferenceSession encoder, int width)
    {
        ArgumentNullException.ThrowIfNull(vision);
        ArgumentNullException.ThrowIfNull(embedTokens);
        ArgumentNullException.ThrowIfNull(encoder);
        _vision = vision;
        EmbedTokens = embedTokens;
        _encoder = encoder;
        Width = width;
        Require(vision, "vision_encoder.onnx", [PixelValues], ImageFeatures);
        Require(embedTokens, "embed_tokens.onnx", [InputIds], InputsEmbeds);
        Require(encoder, "encoder_model.onnx", [InputsEmbeds, AttentionMask], LastHiddenState);
    }

    /// <summary>The embed_tokens session (the decoder's token embeddings too).</summary>
    public InferenceSession EmbedTokens { get; }

    /// <summary>d_model: the width of every embedding and of the encoder output.</summary>
    public int Width { get; }

    /// <param name="pixelValues">[3, height, width] floats, channels first, processed.</param>
    /// <param name="promptIds">The tokenized task prompt (with &lt;s&gt; … &lt;/s&gt;).</param>
    public EncoderOutput Encode(ReadOnlyMemory<float> pixelValues, int height, int width, ReadOnlySpan<int> promptIds, CancellationToken ct = default)
    {
        if (pixelValues.Length != 3L * height * width)
        {
            throw new ArgumentException($"pixel_values has {pixelValues.Length} values; 3 x {height} x {width} are needed.", nameof(pixelValues));
        }

        using var options = new RunOptions();
        using var cancel = ct.Register(static o => ((RunOptions)o!).Terminate = true, options);
        try
        {
            using var pixels = OrtValue.CreateTensorValueFromMemory(pixelValues.ToArray(), [1, 3, height, width]);
            using var image = _vision.Run(options, [PixelValues], [pixels], [ImageFeatures]);
            var imageFeatures = Rows(image[0], out int imageTokens);

            var ids = new long[promptIds.Length];
            for (int i = 0; i < ids.Length; i++)
            {
                ids[i] = promptIds[i];
            }

            using var idValue = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
            using var text = EmbedTokens.Run(options, [InputIds], [idValue], [InputsEmbeds]);
            var textFeatures = Rows(text[0], out _);

            int length = imageTokens + ids.Length;
            var embeds = new float[length * Width];
            imageFeatures.CopyTo(embeds);
            textFeatures.CopyTo(embeds.AsSpan(imageFeatures.Length));
            var mask = new long[length];
            mask.AsSpan().Fill(1);
            using var embedsValue = OrtValue.CreateTensorValueFromMemory(embeds, [1, length, Width]);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [1, length]);
            using var encoded = _encoder.Run(options, [InputsEmbeds, AttentionMask], [embedsValue, maskValue], [LastHiddenState]);
            return new EncoderOutput(Rows(encoded[0], out _).ToArray(), length, Width);
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
    }

    public void Dispose()
    {
        _vision.Dispose();
        EmbedTokens.Dispose();
        _encoder.Dispose();
    }

    /// <summary>A [1, rows, Width] float output, checked, as a span.</summary>
    private ReadOnlySpan<float> Rows(OrtValue value, out int rows)
    {
        var shape = value.GetTensorTypeAndShape().Shape;
        if (shape.Length != 3 || shape[0] != 1 || shape[2] != Width)
        {
            throw new InvalidOperationException($"Expected a [1, n, {Width}] output, got [{string.Join(", ", shape)}].");
        }

        rows = checked((int)shape[1]);
        return value.GetTensorDataAsSpan<float>();
    }

    private static void Require(InferenceSession session, string file, string[] inputs, string output)
    {
        var missing = inputs.Where(i => !session.InputMetadata.ContainsKey(i)).Select(i => $"input '{i}'")
            .Concat(session.OutputMetadata.ContainsKey(output) ? [] : [$"output '{output}'"]).ToList();
        if (missing.Count > 0)
        {
            throw new BundleValidationException($"{file}: {string.Join(", ", missing)} missing");
        }
    }
}
