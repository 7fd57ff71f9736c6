using System.Globalization;

namespace MmServe.Media.Audio;

/// <summary>Client-safe <see cref="MediaError"/>s for audio; messages name the limit, never echo exception text.</summary>
internal static class AudioErrors
{
    private const string Supported = "WAV (RIFF) with 8/16/24/32-bit integer PCM or 32/64-bit IEEE float samples";

    public static MediaError Invalid(string reason) => new(
        MediaErrorCodes.InvalidAudio,
        $"The audio could not be decoded: {reason}. Supported: {Supported}.");

    public static MediaError InvalidMp3(string reason) => new(
        MediaErrorCodes.InvalidAudio,
        $"The audio could not be decoded as MP3: {reason}.");

    public static MediaError TooLongWhileDecoding(double maxSeconds) => new(
        MediaErrorCodes.AudioTooLarge,
        string.Create(CultureInfo.InvariantCulture, $"The audio lasts longer than the limit of {maxSeconds} seconds."));

    public static MediaError Truncated() => Invalid("the file is truncated (a chunk extends past the end of the data)");

    public static MediaError UnsupportedContainer(string name) => new(
        MediaErrorCodes.UnsupportedAudioFormat,
        $"The audio format {name} is not supported. Supported: {Supported}.");

    public static MediaError UnsupportedEncoding(int formatTag, int bitsPerSample) => new(
        MediaErrorCodes.UnsupportedAudioFormat,
        $"The WAV encoding (format tag 0x{formatTag.ToString("X4", CultureInfo.InvariantCulture)}, {bitsPerSample} bits per sample) is not supported. Supported: {Supported}.");

    public static MediaError TooManyBytes(long actualBytes, long maxBytes) => new(
        MediaErrorCodes.AudioTooLarge,
        $"The encoded audio is {actualBytes} bytes; the limit is {maxBytes} bytes.");

    public static MediaError StreamTooLong(long maxBytes) => new(
        MediaErrorCodes.AudioTooLarge,
        $"The encoded audio is larger than the limit of {maxBytes} bytes.");

    public static MediaError TooLong(double seconds, double maxSeconds) => new(
        MediaErrorCodes.AudioTooLarge,
        string.Create(CultureInfo.InvariantCulture, $"The audio lasts {seconds:0.###} seconds; the limit is {maxSeconds} seconds."));

    public static MediaError TooManyChannels(int channels, int maxChannels) => new(
        MediaErrorCodes.UnsupportedAudioFormat,
        $"The audio has {channels} channels; the limit is {maxChannels} channels.");

    public static MediaError SampleRateTooHigh(long sampleRate, int maxSampleRate) => new(
        MediaErrorCodes.UnsupportedAudioFormat,
        $"The audio sample rate is {sampleRate} Hz; the limit is {maxSampleRate} Hz.");
}
