using System.Text.Json;

namespace MmServe.Soak.Load;

/// <summary>One streaming chat completion body: text only, or a unique image with a question about it.</summary>
internal static class SoakRequest
{
    private static readonly string[] TextPrompts =
    [
        "What colour is the circle?",
        "Name a shape.",
        "Count to {0}.",
        "Say the number {0}.",
        "Is a square round?",
        "Describe a red square and a blue circle.",
    ];

    private static readonly string[] ImagePrompts =
    [
        "What is in the image?",
        "What colour is the shape?",
        "Describe the picture.",
    ];

    /// <param name="withImage">Half of the soak's requests carry an image.</param>
    public static byte[] Build(string model, Random rng, bool withImage, int maxTokens)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteStartArray("messages");
            w.WriteStartObject();
            w.WriteString("role", "user");
            if (withImage)
            {
                w.WriteStartArray("content");
                w.WriteStartObject();
                w.WriteString("type", "image_url");
                w.WriteStartObject("image_url");
                w.WriteString("url", "data:image/png;base64," + Convert.ToBase64String(UniquePng.Render(rng)));
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteString("text", ImagePrompts[rng.Next(ImagePrompts.Length)]);
                w.WriteEndObject();
                w.WriteEndArray();
            }
            else
            {
                w.WriteString("content", string.Format(System.Globalization.CultureInfo.InvariantCulture, TextPrompts[rng.Next(TextPrompts.Length)], rng.Next(100)));
            }

            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteNumber("max_completion_tokens", rng.Next(1, maxTokens + 1));
            w.WriteNumber("temperature", 0.7);
            w.WriteNumber("seed", rng.Next());
            w.WriteBoolean("stream", true);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
