using MmServe.Media.Audio.Whisper;
using MmServe.Model.Bundle;
using MmServe.Model.HuggingFace.Whisper;

namespace MmServe.Serving.Media;

/// <summary>A preprocessor_config.json's WhisperFeatureExtractor fields as the media library's extractor.</summary>
public static class WhisperFeatures
{
    /// <exception cref="BundleValidationException">A field is out of range (the message names it).</exception>
    public static WhisperFeatureExtractor CreateExtractor(WhisperFeatureConfig f)
    {
        ArgumentNullException.ThrowIfNull(f);
        try
        {
            return new WhisperFeatureExtractor(new WhisperFeatureSpec
            {
                FeatureSize = f.FeatureSize, SamplingRate = f.SamplingRate, HopLength = f.HopLength, NFft = f.NFft, NSamples = f.NSamples, NbMaxFrames = f.NbMaxFrames,
            });
        }
        catch (ArgumentException e)
        {
            throw new BundleValidationException(e.Message, e);
        }
    }
}
