using System.Globalization;
using MmServe.Model.Bundle;
using MmServe.Model.Tokenization;

namespace MmServe.Model.HuggingFace;

/// <summary>
/// What an Ultravox export adds to a text LLM (processor_config.json and config.json, as transformers.js 4.3.1's
/// UltravoxProcessor and UltravoxModel read them): the placeholder the prompt writes per clip, expanded to
/// <see cref="AudioTokens"/> copies, whose positions then take the audio encoder's rows.
/// </summary>
/// <param name="Placeholder">processor_config.json "audio_placeholder" ("&lt;|audio|&gt;"), a token of the tokenizer.</param>
/// <param name="PlaceholderId">Its id, which is also config.json's audio token id (checked at load).</param>
/// <param name="EncoderDsFactor">16 kHz samples per audio encoder frame (320 = hop 160 × conv stride 2).</param>
/// <param name="StackFactor">Encoder frames stacked into one LLM position.</param>
/// <param name="Features">preprocessor_config.json's WhisperFeatureExtractor fields.</param>
public sealed record UltravoxConfig(string Placeholder, int PlaceholderId, int EncoderDsFactor, int StackFactor, Whisper.WhisperFeatureConfig Features)
{
    public const string ProcessorFile = "processor_config.json";

    /// <summary>
    /// LLM positions of a clip of <paramref name="samples"/> 16 kHz samples, as UltravoxProcessor counts them:
    /// 1 + ceil(round(samples / encoder_ds_factor) / stack_factor) (transformers.js notes Python's is one less).
    /// </summary>
    public int AudioTokens(int samples) =>
        1 + (int)Math.Ceiling(Math.Round(((double)samples / EncoderDsFactor) + 1e-4, MidpointRounding.AwayFromZero) / StackFactor);

    internal static UltravoxConfig Read(string folder, HfJson config, ByteLevelBpeTokenizer tokenizer)
    {
        var processor = HfJson.Read(folder, ProcessorFile, required: true)!;
        var root = processor.Root;
        var placeholder = processor.String(root, "audio_placeholder", "audio_placeholder") ?? throw processor.Error("audio_placeholder", "is required");
        int id = tokenizer.TokenToId(placeholder)
            ?? throw processor.Error("audio_placeholder", $"'{placeholder}' is not a token of tokenizer.json");

        // transformers.js merges at config.ignore_index ?? audio_token_id ?? audio_token_index: a model whose id there is
        // not the placeholder's would put no audio anywhere (transformers.js then fails on the count).
        var (field, configured) = new[] { "ignore_index", "audio_token_id", "audio_token_index" }
            .Select(name => (name, config.Int(config.Root, name, name)))
            .FirstOrDefault(f => f.Item2 is not null);
        if (configured is null)
        {
            throw config.Error("audio_token_index", "is required (the id of the audio placeholder)");
        }

        if (configured != id)
        {
            throw config.Error(field, $"is {configured.Value.ToString(CultureInfo.InvariantCulture)}, but audio_placeholder '{placeholder}' is id {id.ToString(CultureInfo.InvariantCulture)}");
        }

        return new UltravoxConfig(
            placeholder,
            id,
            processor.RequiredPositive(root, "encoder_ds_factor", "encoder_ds_factor"),
            processor.RequiredPositive(root, "stack_factor", "stack_factor"),
            Whisper.WhisperFeatureConfig.Read(folder));
    }
}
