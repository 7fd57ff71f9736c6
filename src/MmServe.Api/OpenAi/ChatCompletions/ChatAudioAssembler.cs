using MmServe.Serving.Requests;
using System.Security.Cryptography;
using MmServe.Serving.Generation;
using MmServe.Media.Output;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// One response's audio output: every clip the model generated, joined into one recording as OpenAI returns one
/// per message. pcm16 streams each clip as soon as it exists; a WAV file needs the whole recording, so a
/// streamed wav arrives in one data chunk at the end. A reply in which the model generated no sound still
/// carries message.audio (an empty recording) so that the shape does not depend on the model's answer.
/// pcm16 is 24 kHz as OpenAI defines it (clients play it at that rate without a header to tell them otherwise);
/// a WAV file keeps the model's own rate, which its header states.
/// </summary>
internal sealed class ChatAudioAssembler(AudioOutputFormat format, int sampleRate, long expiresAt)
{
    private readonly List<float> _samples = [];

    /// <summary>OpenAI-style id of this output ("audio_" + 32 hex digits).</summary>
    public string Id { get; } = "audio_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public long ExpiresAt => expiresAt;

    public bool StreamsClips => format.Format == AudioOutputFormat.Pcm16;

    /// <summary>Adds a clip; for pcm16 returns its base64 PCM to stream now.</summary>
    public string? Add(GeneratedMedia clip)
    {
        _samples.AddRange(clip.Samples);
        return StreamsClips ? Convert.ToBase64String(OpenAiPcm.Encode(clip.Samples, sampleRate)) : null;
    }

    /// <summary>The whole recording as base64 (a WAV file, or bare PCM for pcm16).</summary>
    public string WholeRecording()
    {
        var samples = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_samples);
        var bytes = format.Format == AudioOutputFormat.Wav
            ? GeneratedAudioEncoder.EncodeWav(samples, sampleRate)
            : OpenAiPcm.Encode(samples, sampleRate);
        return Convert.ToBase64String(bytes);
    }
}
