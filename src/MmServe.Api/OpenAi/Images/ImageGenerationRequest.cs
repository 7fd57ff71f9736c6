namespace MmServe.Api.OpenAi.Images;

/// <summary>The body of POST /v1/images/generations, as OpenAI defines it.</summary>
internal sealed class ImageGenerationRequest
{
    /// <summary>What to draw, e.g. "a red circle"; placed into the model's image prompt template.</summary>
    public string? Prompt { get; set; }

    /// <summary>The served model's id; may be omitted.</summary>
    public string? Model { get; set; }

    /// <summary>1 up to Generation:MaxImagesPerRequest.</summary>
    public int? N { get; set; }

    /// <summary>"auto" or one of the model's sizes (GET /v1/models: capabilities.image_sizes).</summary>
    public string? Size { get; set; }

    /// <summary>Only "b64_json": MmServe keeps no image store to link to.</summary>
    public string? ResponseFormat { get; set; }

    /// <summary>Only "png".</summary>
    public string? OutputFormat { get; set; }

    /// <summary>Accepted and ignored (quality, style, background, moderation, user).</summary>
    public string? Quality { get; set; }

    public string? Style { get; set; }

    public string? Background { get; set; }

    public string? Moderation { get; set; }

    public string? User { get; set; }
}

/// <summary>The answer: <c>{"created","data":[{"b64_json"}],"size","output_format","usage"}</c>.</summary>
internal sealed record ImageGenerationResponse(
    long Created,
    IReadOnlyList<GeneratedImageData> Data,
    string Size,
    string OutputFormat,
    ImageUsage Usage);

internal sealed record GeneratedImageData(string B64Json);

/// <summary>Tokens of all images together: prompt tokens in, generated tokens out.</summary>
internal sealed record ImageUsage(int InputTokens, int OutputTokens, int TotalTokens);
