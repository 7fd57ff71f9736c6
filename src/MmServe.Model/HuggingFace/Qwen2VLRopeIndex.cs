using MmServe.Abstractions;

namespace MmServe.Model.HuggingFace;

/// <summary>One image or video in a Qwen2-VL prompt: its placeholder run and its grid in patches (grid_thw).</summary>
/// <param name="Start">First <c>&lt;|image_pad|&gt;</c> / <c>&lt;|video_pad|&gt;</c> position.</param>
/// <param name="Length">Placeholder tokens: T · (H / merge) · (W / merge).</param>
public readonly record struct VisionGrid(int Start, int Length, int T, int H, int W);

/// <summary>
/// Qwen2-VL's M-RoPE positions (transformers' <c>Qwen2VLModel.get_rope_index</c>): text tokens advance the temporal,
/// height and width streams together; a vision run of grid (t, h, w) takes <c>offset + (t_i, h_i, w_i)</c> with h, w in
/// merged units and offset the position after the text before it; text after it restarts at max + 1. Videos are
/// positioned exactly like images (Qwen2-VL has no per-second temporal scaling). Later tokens are their index plus
/// <c>rope_delta</c> = max + 1 − prompt length.
/// </summary>
public static class Qwen2VLRopeIndex
{
    public const int Axes = 3;

    /// <exception cref="ArgumentException">Runs that overlap, leave the prompt or do not match their grid.</exception>
    public static SequencePositions Compute(int promptLength, IReadOnlyList<VisionGrid> grids, int mergeSize)
    {
        ArgumentNullException.ThrowIfNull(grids);
        ArgumentOutOfRangeException.ThrowIfNegative(promptLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mergeSize);
        var positions = new long[Axes * promptLength];
        var temporal = positions.AsSpan(0, promptLength);
        var height = positions.AsSpan(promptLength, promptLength);
        var width = positions.AsSpan(2 * promptLength, promptLength);
        long next = 0;
        int index = 0;
        foreach (var grid in grids)
        {
            if (grid.Start < index || grid.Length <= 0 || (long)grid.Start + grid.Length > promptLength)
            {
                throw new ArgumentException($"Vision run [{grid.Start}, +{grid.Length}) overlaps another or leaves the prompt of {promptLength}.", nameof(grids));
            }

            int h = grid.H / mergeSize;
            int w = grid.W / mergeSize;
            if (grid.T <= 0 || h <= 0 || w <= 0 || grid.H % mergeSize != 0 || grid.W % mergeSize != 0 || (long)grid.T * h * w != grid.Length)
            {
                throw new ArgumentException($"Grid ({grid.T}, {grid.H}, {grid.W}) with merge {mergeSize} does not give {grid.Length} tokens.", nameof(grids));
            }

            for (; index < grid.Start; index++)
            {
                temporal[index] = height[index] = width[index] = next++;
            }

            long offset = next;
            for (int t = 0; t < grid.T; t++)
            {
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        temporal[index] = offset + t;
                        height[index] = offset + y;
                        width[index] = offset + x;
                        index++;
                    }
                }
            }

            next = offset + Math.Max(grid.T, Math.Max(h, w));
        }

        for (; index < promptLength; index++)
        {
            temporal[index] = height[index] = width[index] = next++;
        }

        return new SequencePositions(Axes, positions, promptLength, next - promptLength);
    }
}
