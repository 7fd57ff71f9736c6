namespace MmServe.Media.Ffmpeg;

/// <summary>The bundle's <c>uniform</c> sampling rule (docs/model-bundle.md, <c>preprocessing.kind = "video_frames"</c>).</summary>
internal static class UniformFrameSampling
{
    /// <summary>
    /// Of <paramref name="decodedFrames"/> frames, index <c>floor((i + 0.5) · N / numFrames)</c> for each
    /// <c>i &lt; numFrames</c>: the centre of each of numFrames equal slices. Computed as
    /// <c>floor((2i + 1) · N / (2 · numFrames))</c> in integers, which equals the reference's floating-point
    /// result: the quotient's fractional part is a multiple of 1/(2·numFrames), far above rounding error.
    /// With fewer frames than requested, indices repeat.
    /// </summary>
    public static int[] Indices(int decodedFrames, int numFrames)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(decodedFrames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFrames);
        var indices = new int[numFrames];
        for (int i = 0; i < numFrames; i++)
        {
            indices[i] = (int)((((2L * i) + 1) * decodedFrames) / (2L * numFrames));
        }

        return indices;
    }
}
