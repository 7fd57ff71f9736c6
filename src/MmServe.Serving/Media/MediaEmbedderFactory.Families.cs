using MmServe.Media.Images;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Serving.Media;

/// <summary>The image modalities of two architecture families: an instruction-aware Q-Former and Fuyu's patches.</summary>
public static partial class MediaEmbedderFactory
{
    /// <summary>
    /// InstructBLIP: the image encoder, then a projector that also reads the item's instruction ids. Items stay
    /// fixed-size (image + padded instruction), so they batch on a <see cref="ComponentBatcher"/> like plain chains.
    /// </summary>
    private static MediaModality CreateInstructed(
        ServedModel model, InputModalitySpec spec, string at, LimitsOptions limits, MediaOptions media, SessionFactory sessions,
        ILoggerFactory loggerFactory, Telemetry.ServingMetrics? metrics, string name)
    {
        var instruction = spec.Instruction!;
        var pre = new ImageInputPreprocessor(ImageInputPreprocessor.CreatePreprocessor(spec.Preprocessing, $"{at}.preprocessing"), limits.Image);
        var chain = new InstructedEncoderChain(model.Bundle, Require(spec.Encoder, $"{at}.encoder"), Require(spec.Projector, $"{at}.projector"), instruction, sessions);
        int hidden = model.Bundle.Manifest.Decoder.HiddenSize;
        if (chain.PixelLength != pre.OutputLength || chain.TokensPerItem != spec.TokensPerItem || chain.HiddenSize != hidden)
        {
            chain.Dispose();
            throw new BundleValidationException(
                $"{at}: the encoder chain takes {chain.PixelLength} pixel values and yields {chain.TokensPerItem}x{chain.HiddenSize}, "
                + $"but preprocessing gives {pre.OutputLength} values and tokens_per_item x hidden_size is {spec.TokensPerItem}x{hidden}");
        }

        int padId = model.Tokenizer.TokenToId(instruction.PadToken) ?? throw new BundleValidationException($"{at}.instruction.pad_token is not a token");
        var batcher = new ComponentBatcher(
            chain, media.EncoderBatching.MaxBatch, TimeSpan.FromMilliseconds(media.EncoderBatching.MaxWaitMs), loggerFactory.CreateLogger<ComponentBatcher>(),
            spanName: $"encoder {name}", runObserved: metrics is null ? null : items => metrics.ComponentRun(model.Id, "encoder", name, items));
        return new MediaModality(pre, batcher, chain) { Instruction = new ProjectorInstructionInput(instruction.MaxTokens, padId) };
    }

    /// <summary>Fuyu: no encoder; each image's patches (their count varies) go through the projector in a run of their own.</summary>
    private static MediaModality CreatePatches(
        ServedModel model, InputModalitySpec spec, string at, LimitsOptions limits, SessionFactory sessions, SemaphoreSlim gate)
    {
        var patchSpec = FuyuPatchSpec.From(spec.Preprocessing, $"{at}.preprocessing");
        var pre = new FuyuPatchPreprocessor(patchSpec, limits.Image);
        int hidden = model.Bundle.Manifest.Decoder.HiddenSize;
        var projector = new PatchProjector(model.Bundle, Require(spec.Projector, $"{at}.projector"), sessions, patchSpec.PatchDimension, hidden);
        Task<float[]> EncodeAsync(float[] input, CancellationToken ct) => RunGatedAsync(gate, () =>
            FuyuMediaItem.Encoded(FuyuMediaItem.Grid(input), projector.Run(FuyuMediaItem.Patches(input), ct), hidden), ct);

        return new MediaModality(pre, EncodeAsync, projector);
    }
}
