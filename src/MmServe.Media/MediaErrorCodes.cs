namespace MmServe.Media;

/// <summary>Stable machine codes carried by <see cref="MediaError.Code"/>; the API maps them to HTTP statuses.</summary>
public static class MediaErrorCodes
{
    /// <summary>The bytes are not a decodable image (corrupt, truncated or not an image at all).</summary>
    public const string InvalidImage = "invalid_image";

    /// <summary>Encoded size, width, height, pixel count or decode memory exceeds <see cref="Images.ImageLimits"/>.</summary>
    public const string ImageTooLarge = "image_too_large";

    /// <summary>A recognised image format (or format feature) that this server does not decode.</summary>
    public const string UnsupportedImageFormat = "unsupported_image_format";

    /// <summary>The longer side divided by the shorter side exceeds <see cref="Images.ImageLimits.MaxAspectRatio"/>.</summary>
    public const string ImageAspectRatio = "image_aspect_ratio";

    /// <summary>The string is not a well-formed base64 data: URL.</summary>
    public const string InvalidDataUrl = "invalid_data_url";

    /// <summary>The data: URL payload would decode to more bytes than allowed.</summary>
    public const string PayloadTooLarge = "payload_too_large";

    /// <summary>The data: URL declares a media type this endpoint does not accept (e.g. text/plain for an image).</summary>
    public const string UnsupportedMediaType = "unsupported_media_type";

    /// <summary>The bytes are not a decodable WAV file (corrupt, truncated, inconsistent header or not audio at all).</summary>
    public const string InvalidAudio = "invalid_audio";

    /// <summary>Encoded size or duration exceeds <see cref="Audio.AudioLimits"/>.</summary>
    public const string AudioTooLarge = "audio_too_large";

    /// <summary>
    /// A recognised audio container or encoding this server does not decode (MP3, FLAC, ADPCM, …), or a
    /// channel count / sample rate beyond <see cref="Audio.AudioLimits"/>.
    /// </summary>
    public const string UnsupportedAudioFormat = "unsupported_audio_format";
}
