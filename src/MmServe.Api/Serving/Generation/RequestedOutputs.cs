namespace MmServe.Api.Serving.Generation;

/// <summary>What a chat request asked to get besides text, validated against the served model.</summary>
/// <param name="Modalities">Output modalities to generate (none: text only).</param>
/// <param name="Audio">Voice and format of audio output, when audio was asked for.</param>
internal sealed record RequestedOutputs(IReadOnlyList<OutputModality> Modalities, AudioOutputFormat? Audio)
{
    public static RequestedOutputs TextOnly { get; } = new([], null);

    public bool Any => Modalities.Count > 0;

    public bool WantsImages => Modalities.Any(m => m.Name == ServedModel.ImageModality);
}

/// <summary>Chat "audio": {"voice", "format"}; Format is "wav" or "pcm16".</summary>
internal sealed record AudioOutputFormat(string Voice, string Format)
{
    public const string Wav = "wav";
    public const string Pcm16 = "pcm16";
}
