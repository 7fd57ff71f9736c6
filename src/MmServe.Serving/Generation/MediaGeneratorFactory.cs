using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Serving.Generation;

/// <summary>
/// Builds the <see cref="MediaGenerator"/> at startup from the manifest's output modalities. Only images
/// (planar RGB, "nchw") and audio (a mono waveform with a sample rate) can be encoded for clients; any other
/// output modality, or a generator whose shape does not match its manifest entry, fails start with the field named.
/// </summary>
public static class MediaGeneratorFactory
{
    public static MediaGenerator Create(
        ServedModel model, GenerationOptions options, WorkerOptions worker, ILoggerFactory loggerFactory, Telemetry.ServingMetrics? metrics = null,
        string workerKey = "Workers:0")
    {
        var manifest = model.Bundle.Manifest;
        var sessions = OnnxExecutorFactory.CreateSessionFactory(worker, workerKey, loggerFactory);
        var modalities = new Dictionary<string, OutputModality>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, spec) in manifest.OutputModalities)
            {
                var at = $"{model.Bundle.ManifestPath}: output_modalities.{name}";
                var signals = spec.SignalTokens.Select(t => model.Tokenizer.TokenToId(t)
                    ?? throw new BundleValidationException($"{at}.signal_tokens: '{t}' is not in the tokenizer's vocabulary")).ToArray();
                var chain = new GeneratorChain(model.Bundle, spec, sessions);
                try
                {
                    CheckShape(name, spec, chain, signals.Length, manifest.Decoder.HiddenSize, at);
                }
                catch
                {
                    chain.Dispose();
                    throw;
                }

                var batcher = new ComponentBatcher(
                    chain, options.Batching.MaxBatch, TimeSpan.FromMilliseconds(options.Batching.MaxWaitMs), loggerFactory.CreateLogger<ComponentBatcher>(), spanName: $"generator {name}",
                    runObserved: metrics is null ? null : items => metrics.ComponentRun(model.Id, "generator", name, items));
                modalities[name] = new OutputModality(name, spec, signals, batcher, chain);
            }
        }
        catch
        {
            foreach (var m in modalities.Values)
            {
                m.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }

        return new MediaGenerator(modalities);
    }

    private static void CheckShape(string name, OutputModalitySpec spec, GeneratorChain chain, int signals, int hiddenSize, string at)
    {
        if (chain.InputLength != signals * hiddenSize)
        {
            throw new BundleValidationException(
                $"{at}: the output projector takes {chain.InputLength} values per item, but {signals} signal tokens x hidden size {hiddenSize} is {signals * hiddenSize}");
        }

        switch (name)
        {
            case ServedModel.ImageModality:
                if (spec.Width is not { } w || spec.Height is not { } h || chain.OutputLength != 3 * w * h || (spec.Layout ?? "nchw") != "nchw")
                {
                    throw new BundleValidationException(
                        $"{at}: an image generator must yield 3 x height x width values (layout \"nchw\") with width and height given; it yields {chain.OutputLength}");
                }

                break;
            case ServedModel.AudioModality:
                if (spec.SampleRate is not (> 0))
                {
                    throw new BundleValidationException($"{at}.sample_rate is required for audio output");
                }

                break;
            default:
                throw new BundleValidationException($"{at}: this server can only encode 'image' and 'audio' outputs");
        }
    }
}
