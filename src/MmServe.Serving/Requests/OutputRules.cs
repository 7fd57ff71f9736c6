using MmServe.Serving.Errors;
using MmServe.Serving.Generation;

namespace MmServe.Serving.Requests;

/// <summary>
/// Output modalities against what the served model generates: each named one is "text" or an output modality of
/// the model; audio output needs a known voice and a container the server encodes (wav, pcm16: no managed
/// mp3/opus/flac encoder is shipped).
/// </summary>
public static class OutputRules
{
    private const string Text = "text";
    private static readonly string[] AudioFormats = [AudioOutputFormat.Wav, AudioOutputFormat.Pcm16];

    public static (RequestedOutputs? Outputs, ServingError? Error) Apply(
        IReadOnlyList<string?>? modalities, AudioOutputInput? audio, IReadOnlyDictionary<string, OutputModality> served, RequestFieldNames fields)
    {
        if (modalities is null)
        {
            return (RequestedOutputs.TextOnly, null);
        }

        if (modalities.Count == 0)
        {
            return Fail(ServingError.Invalid(
                $"'{fields.OutputModalities}' must name at least one output type, e.g. [\"text\"].", fields.OutputModalities, "invalid_value"));
        }

        var requested = new List<OutputModality>();
        for (int i = 0; i < modalities.Count; i++)
        {
            var name = modalities[i];
            if (name == Text || requested.Any(m => m.Name == name))
            {
                continue;
            }

            if (name is null || !served.TryGetValue(name, out var modality))
            {
                var offered = string.Join(", ", new[] { Text }.Concat(served.Keys.Order(StringComparer.Ordinal)).Select(fields.Modality));
                return Fail(ServingError.Invalid(
                    $"This model cannot produce {fields.Modality(name ?? "")} output. Supported modalities are {offered}.", $"{fields.OutputModalities}[{i}]", "unsupported_value"));
            }

            requested.Add(modality);
        }

        var audioModality = requested.FirstOrDefault(m => m.Name == ServedModel.AudioModality);
        if (audioModality is null)
        {
            return (new RequestedOutputs(requested, null), null);
        }

        var (format, error) = ApplyAudio(audio, audioModality, fields.Audio);
        return error is null ? (new RequestedOutputs(requested, format), null) : Fail(error);
    }

    private static (AudioOutputFormat?, ServingError?) ApplyAudio(AudioOutputInput? audio, OutputModality modality, string param)
    {
        if (ReferenceEquals(audio, AudioOutputInput.ServerDefault))
        {
            return (new AudioOutputFormat(modality.Voices.FirstOrDefault() ?? "default", AudioOutputFormat.Wav), null);
        }

        if (audio is null)
        {
            return (null, ServingError.Invalid(
                $"'{param}' is required when the output modalities contain \"audio\": give {{\"voice\", \"format\"}}.", param, "missing_required_parameter"));
        }

        if (string.IsNullOrEmpty(audio.Voice))
        {
            return (null, ServingError.Missing($"{param}.voice"));
        }

        if (CheckVoice(audio.Voice, modality, $"{param}.voice") is { } voiceError)
        {
            return (null, voiceError);
        }

        if (string.IsNullOrEmpty(audio.Format))
        {
            return (null, ServingError.Missing($"{param}.format"));
        }

        if (!AudioFormats.Contains(audio.Format, StringComparer.Ordinal))
        {
            return (null, ServingError.Invalid(
                $"Unsupported audio format '{audio.Format}'. Supported formats are 'wav' and 'pcm16'.", $"{param}.format", "unsupported_value"));
        }

        return (new AudioOutputFormat(audio.Voice, audio.Format), null);
    }

    /// <summary>A voice the model speaks with; shared with /v1/audio/speech.</summary>
    public static ServingError? CheckVoice(string voice, OutputModality modality, string param) => modality.Voices.Contains(voice, StringComparer.Ordinal)
        ? null
        : ServingError.Invalid(
            $"Unsupported voice '{voice}'. This model's voices are {string.Join(", ", modality.Voices.Select(v => $"'{v}'"))}.", param, "unsupported_value");

    private static (RequestedOutputs?, ServingError?) Fail(ServingError error) => (null, error);
}
