namespace MmServe.Serving.Generation;

/// <summary>Configuration section "Generation": generated images and audio (the model's output modalities).</summary>
public sealed class GenerationOptions
{
    public const string SectionName = "Generation";

    /// <summary>"Generation:Batching": generator work of concurrent requests shares ORT runs.</summary>
    public GeneratorBatchingOptions Batching { get; set; } = new();

    /// <summary>Most images one /v1/images/generations request may ask for ("n").</summary>
    public int MaxImagesPerRequest { get; set; } = 4;

    /// <summary>Longest text (characters) of an image prompt or a speech input.</summary>
    public int MaxInputChars { get; set; } = 4096;

    /// <summary>Seconds until a chat audio output's expires_at (OpenAI keeps them an hour for follow-up turns).</summary>
    public int AudioExpirySeconds { get; set; } = 3600;
}

/// <summary>"Generation:Batching".</summary>
public sealed class GeneratorBatchingOptions
{
    /// <summary>Most items (images, clips) per generator run.</summary>
    public int MaxBatch { get; set; } = 8;

    /// <summary>How long the first waiting item may wait for company; 0 runs whatever is queued at once.</summary>
    public double MaxWaitMs { get; set; }
}
