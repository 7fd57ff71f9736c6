using MmServe.Media.Images;

namespace MmServe.Media.Tests.Images;

/// <summary>
/// A deliberately naive, double-precision transcription of the spec's "bilinear_antialias" formula
/// (docs/model-bundle.draft.md), independent of the production code, used as the test oracle.
/// </summary>
internal static class ReferenceImplementation
{
    public static double[] Preprocess(RgbImage image, int outWidth, int outHeight, double rescale, double[] mean, double[] std)
    {
        var pixels = image.Pixels.Span;
        var output = new double[3 * outHeight * outWidth];
        for (int c = 0; c < 3; c++)
        {
            // Horizontal pass first, then vertical, each the identity when the size is unchanged.
            var rows = new double[image.Height, outWidth];
            for (int y = 0; y < image.Height; y++)
            {
                var input = new double[image.Width];
                for (int x = 0; x < image.Width; x++)
                {
                    input[x] = pixels[(((y * image.Width) + x) * 3) + c];
                }

                var resized = Resize1D(input, outWidth);
                for (int x = 0; x < outWidth; x++)
                {
                    rows[y, x] = resized[x];
                }
            }

            for (int x = 0; x < outWidth; x++)
            {
                var column = new double[image.Height];
                for (int y = 0; y < image.Height; y++)
                {
                    column[y] = rows[y, x];
                }

                var resized = Resize1D(column, outHeight);
                for (int y = 0; y < outHeight; y++)
                {
                    output[(c * outHeight * outWidth) + (y * outWidth) + x] = ((resized[y] * rescale) - mean[c]) / std[c];
                }
            }
        }

        return output;
    }

    private static double[] Resize1D(double[] input, int outSize)
    {
        int inSize = input.Length;
        if (inSize == outSize)
        {
            return input;
        }

        double scale = (double)inSize / outSize;
        double support = scale >= 1 ? scale : 1.0;
        double invscale = scale >= 1 ? 1 / scale : 1.0;
        var output = new double[outSize];
        for (int i = 0; i < outSize; i++)
        {
            double center = scale * (i + 0.5);
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize);
            var w = new double[xmax - xmin];
            for (int j = 0; j < w.Length; j++)
            {
                w[j] = Math.Max(0, 1 - Math.Abs((j + xmin - center + 0.5) * invscale));
            }

            double sum = w.Sum();
            for (int j = 0; j < w.Length; j++)
            {
                output[i] += w[j] / sum * input[xmin + j];
            }
        }

        return output;
    }
}
