using MmServe.Api.Errors;
using MmServe.Api.Serving.Generation;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// Validates "modalities" and "audio" against what the served model can generate: every modality named must
/// be "text" or one of the model's output modalities; audio output needs a known voice and a format the server
/// can encode (wav, pcm16 — no managed mp3/opus/flac encoder is shipped).
/// </summary>
internal static class OutputModalitiesParser
{
    private const string Text = "text";
    private static readonly string[] AudioFormats = [AudioOutputFormat.Wav, AudioOutputFormat.Pcm16];

    public static (RequestedOutputs? Outputs, ApiError? Error) Parse(
        List<string>? modalities, ChatAudioParams? audio, IReadOnlyDictionary<string, OutputModality> served)
    {
        if (modalities is null)
        {
            return (RequestedOutputs.TextOnly, null);
        }

        if (modalities.Count == 0)
        {
            return Fail(ApiError.InvalidRequest("'modalities' must name at least one output type, e.g. [\"text\"].", "modalities", "invalid_value"));
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
                var offered = string.Join(", ", new[] { Text }.Concat(served.Keys.Order(StringComparer.Ordinal)).Select(m => $"'{m}'"));
                return Fail(ApiError.InvalidRequest(
                    $"This model cannot produce '{name}' output. Supported modalities are {offered}.", $"modalities[{i}]", "unsupported_value"));
            }

            requested.Add(modality);
        }

        var audioModality = requested.FirstOrDefault(m => m.Name == Serving.ServedModel.AudioModality);
        if (audioModality is null)
        {
            return (new RequestedOutputs(requested, null), null);
        }

        var (format, error) = ParseAudio(audio, audioModality);
        return error is null ? (new RequestedOutputs(requested, format), null) : Fail(error);
    }

    private static (AudioOutputFormat?, ApiError?) ParseAudio(ChatAudioParams? audio, OutputModality modality)
    {
        if (audio is null)
        {
            return (null, ApiError.InvalidRequest(
                "'audio' is required when 'modalities' contains \"audio\": give {\"voice\", \"format\"}.", "audio", "missing_required_parameter"));
        }

        if (string.IsNullOrEmpty(audio.Voice))
        {
            return (null, ApiError.Missing("audio.voice"));
        }

        if (!modality.Voices.Contains(audio.Voice, StringComparer.Ordinal))
        {
            return (null, UnsupportedVoice(audio.Voice, modality, "audio.voice"));
        }

        if (string.IsNullOrEmpty(audio.Format))
        {
            return (null, ApiError.Missing("audio.format"));
        }

        if (!AudioFormats.Contains(audio.Format, StringComparer.Ordinal))
        {
            return (null, ApiError.InvalidRequest(
                $"Unsupported audio format '{audio.Format}'. Supported formats are 'wav' and 'pcm16'.", "audio.format", "unsupported_value"));
        }

        return (new AudioOutputFormat(audio.Voice, audio.Format), null);
    }

    /// <summary>Shared with /v1/audio/speech.</summary>
    public static ApiError UnsupportedVoice(string voice, OutputModality modality, string param) => ApiError.InvalidRequest(
        $"Unsupported voice '{voice}'. This model's voices are {string.Join(", ", modality.Voices.Select(v => $"'{v}'"))}.", param, "unsupported_value");

    private static (RequestedOutputs?, ApiError?) Fail(ApiError error) => (null, error);
}
