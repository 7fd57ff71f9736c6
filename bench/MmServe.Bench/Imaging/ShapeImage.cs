namespace MmServe.Bench.Imaging;

/// <summary>
/// Paints one coloured circle or square on a dark gradient background, 64x64, in the manner of the scenes
/// mmserve-tiny was trained on (tools/reference-model/mmtiny/world.py), so the model has something it can answer.
/// </summary>
internal static class ShapeImage
{
    public const int Size = 64;

    /// <summary>Colour names and RGB values as in the training world.</summary>
    public static readonly IReadOnlyList<(string Name, byte R, byte G, byte B)> Colours =
    [
        ("red", 220, 40, 40),
        ("green", 40, 180, 60),
        ("blue", 50, 90, 230),
        ("yellow", 235, 215, 40),
        ("purple", 150, 60, 200),
        ("white", 245, 245, 245),
    ];

    public static readonly IReadOnlyList<string> Shapes = ["circle", "square"];

    /// <summary>A PNG of a random scene; the same Random state gives the same bytes.</summary>
    public static byte[] RenderPng(Random rng, out string colour, out string shape)
    {
        var (name, r, g, b) = Colours[rng.Next(Colours.Count)];
        colour = name;
        shape = Shapes[rng.Next(Shapes.Count)];

        var rgb = new byte[Size * Size * 3];
        PaintBackground(rng, rgb);

        // A "large" object inside one quadrant, like world.place: radius 10.5..13, kept 1 px off the quadrant edge.
        var radius = 10.5 + rng.NextDouble() * 2.5;
        var quadrant = rng.Next(4);
        var lo = radius + 1;
        var span = 32 - 2 * lo;
        var cx = (quadrant % 2) * 32 + lo + rng.NextDouble() * span;
        var cy = (quadrant / 2) * 32 + lo + rng.NextDouble() * span;
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                if (Inside(shape, x + 0.5 - cx, y + 0.5 - cy, radius))
                {
                    var i = (y * Size + x) * 3;
                    (rgb[i], rgb[i + 1], rgb[i + 2]) = (r, g, b);
                }
            }
        }

        return PngEncoder.EncodeRgb(rgb, Size, Size);
    }

    private static bool Inside(string shape, double dx, double dy, double radius) => shape switch
    {
        "circle" => dx * dx + dy * dy <= radius * radius,
        _ => Math.Abs(dx) <= radius * 0.85 && Math.Abs(dy) <= radius * 0.85, // square: half side 0.85 r
    };

    /// <summary>A dark base colour with a gentle gradient and a little noise, so images are not all alike.</summary>
    private static void PaintBackground(Random rng, byte[] rgb)
    {
        Span<double> baseColour = stackalloc double[3];
        Span<double> gradient = stackalloc double[3];
        for (var c = 0; c < 3; c++)
        {
            baseColour[c] = 10 + rng.NextDouble() * 60;
            gradient[c] = -20 + rng.NextDouble() * 40;
        }

        var horizontal = rng.Next(2) == 0;
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var t = (horizontal ? x : y) / (double)(Size - 1);
                for (var c = 0; c < 3; c++)
                {
                    var v = baseColour[c] + gradient[c] * t + (rng.NextDouble() - 0.5) * 8;
                    rgb[(y * Size + x) * 3 + c] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                }
            }
        }
    }
}
