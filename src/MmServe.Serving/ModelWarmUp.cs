using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Model.Chat;
using MmServe.Serving.Generation;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;

namespace MmServe.Serving;

/// <summary>
/// Runs every component once before the server says it is ready, and checks what each returns: each media encoder
/// on a sample item (the right number of finite values), each generator on zero signal states (the right number of
/// finite samples), then one short greedy turn through the same <see cref="GenerationService"/> as every request,
/// with the samples in its prompt. The first requests then pay no session warm-up, and a component that loads but
/// computes garbage keeps the server not ready instead of failing clients. The host hands it the concrete engine
/// and generators (what it warms), even where it decorates the interfaces requests use.
/// </summary>
public sealed class ModelWarmUp(
    ServedModel model,
    MediaEmbedder media,
    IMediaGenerator generator,
    IGenerationEngine engine,
    PromptPreparer preparer,
    TokenLogprobs logprobs,
    ILogger<GenerationSession> logger)
{
    private readonly GenerationService _generation = new(preparer, engine, generator, logprobs, logger, metrics: null, modelId: model.Id);

    /// <summary>Null when every component answered well, else what failed (for the log).</summary>
    public async Task<string?> RunAsync(CancellationToken ct)
    {
        int hidden = engine.ModelInfo.HiddenSize;
        var samples = Samples();
        for (int i = 0; i < samples.Count; i++)
        {
            if (await CheckEncoderAsync(samples[i], hidden, ct).ConfigureAwait(false) is { } encoderFailure)
            {
                return encoderFailure;
            }
        }

        foreach (var modality in generator.Modalities.Values.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            var generated = await generator.GenerateAsync(modality, new float[modality.SignalTokenIds.Count * hidden], ct).ConfigureAwait(false);
            if (generated.Samples.Length != modality.OutputLength || !AllFinite(generated.Samples))
            {
                return $"the {modality.Name} generator returned {generated.Samples.Length} values (expected {modality.OutputLength} finite values)";
            }
        }

        return await CheckGenerationAsync(samples, ct).ConfigureAwait(false);
    }

    /// <summary>A small image and a short clip, for the input modalities this server decodes (video frames share no sample).</summary>
    private List<MediaReference> Samples()
    {
        var samples = new List<MediaReference>();
        if (media.Policy.Accepts(ServedModel.ImageModality))
        {
            samples.Add(new MediaReference(ServedModel.ImageModality, MediaSourceKind.DataUrl, SampleImage.RedSquareDataUrl, null, "warm-up"));
        }

        if (media.Policy.Accepts(ServedModel.AudioModality) && media.Policy.AudioFormats.Contains("wav"))
        {
            samples.Add(new MediaReference(ServedModel.AudioModality, MediaSourceKind.Base64, SampleAudio.TwoBeepsWavBase64, "wav", "warm-up"));
        }

        return samples;
    }

    private async Task<string?> CheckEncoderAsync(MediaReference sample, int hidden, CancellationToken ct)
    {
        var result = await media.EmbedAsync([sample], ct).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            return $"the {sample.Modality} encoder refused its warm-up sample: {error.Message}";
        }

        var embeddings = result.Embeddings![0];
        int tokens = model.Bundle.Manifest.CrossAttention is { } cross && cross.Modality == sample.Modality
            ? cross.MediaTokensPerItem
            : model.Bundle.Manifest.InputModalities[sample.Modality].TokensPerItem;

        // Phi-3-V's token count depends on the image: any whole number of rows will do.
        bool rightLength = tokens > 0 ? embeddings.Length == tokens * hidden : embeddings.Length > 0 && embeddings.Length % hidden == 0;
        return rightLength && AllFinite(embeddings)
            ? null
            : $"the {sample.Modality} encoder returned {embeddings.Length} values (expected {(tokens > 0 ? $"{tokens * hidden}" : $"rows of {hidden}")} finite values)";
    }

    private async Task<string?> CheckGenerationAsync(IReadOnlyList<MediaReference> samples, CancellationToken ct)
    {
        var parts = new List<ChatPart>();
        for (int i = 0; i < samples.Count; i++)
        {
            parts.Add(new ChatPart.Media(samples[i].Modality, i));
        }

        parts.Add(new ChatPart.Text("Hello!"));
        var request = new ValidatedRequest(
            [new ChatTurn("user", parts)], samples, new SamplingParams { Temperature = 0, MaxTokens = 2 }, RequestedOutputs.TextOnly);
        var (session, refused) = await _generation.StartAsync(request, "warm-up", ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return $"the warm-up generation was refused: {refused.Message}";
        }

        var (result, failed) = await session!.CompleteAsync(ct).ConfigureAwait(false);
        if (failed is not null)
        {
            return $"the warm-up generation failed: {failed.Message}";
        }

        return result!.Finished.CompletionTokens > 0 ? null : "the warm-up generation produced no token";
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var value in values)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }
}
