using MmServe.Model.Bundle;
using MmServe.Model.Chat;

namespace MmServe.Model.Tests.Chat;

internal static class ChatTestData
{
    public static ChatTemplateSpec Spec(string? defaultSystemPrompt = null) => new()
    {
        MessageFormat = "<|im_start|>{role}\n{content}<|im_end|>\n",
        GenerationPrompt = "<|im_start|>assistant\n",
        PartSeparator = "\n",
        DefaultSystemPrompt = defaultSystemPrompt,
    };

    public static readonly IReadOnlyDictionary<string, InputModalitySpec> Modalities =
        new Dictionary<string, InputModalitySpec>
        {
            ["image"] = new()
            {
                PlaceholderToken = "<|image|>", TokensPerItem = 4, Encoder = "image_encoder",
                Projector = "image_projector", Preprocessing = new PreprocessingSpec { Kind = "image" },
            },
            ["audio"] = new()
            {
                PlaceholderToken = "<|audio|>", TokensPerItem = 2, Encoder = "audio_encoder",
                Projector = "audio_projector", Preprocessing = new PreprocessingSpec { Kind = "log_mel" },
            },
        };

    public static ChatTemplate Template(string? defaultSystemPrompt = null) =>
        new(Spec(defaultSystemPrompt), Modalities.ToDictionary(m => m.Key, m => m.Value.PlaceholderToken));

    public static ChatTurn User(params ChatPart[] parts) => new("user", parts);

    public static ChatPart TextPart(string text) => new ChatPart.Text(text);

    public static ChatPart MediaPart(string modality, int index) => new ChatPart.Media(modality, index);
}
