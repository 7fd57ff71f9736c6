using System.Globalization;
using System.Text.Json;

namespace MmServe.Model.Bundle;

/// <summary>
/// The parsed form of a "tensor" preprocessing entry: element type, per-dimension [min, max] sizes and the value range.
/// Built once at load; <see cref="BundleValidator"/> reports its problems with the manifest's field names.
/// </summary>
public sealed class TensorInputSpec
{
    /// <summary>The element types the server reads from .npy (little-endian float32 only, as the encoders take it).</summary>
    public const string Float32 = "float32";

    private TensorInputSpec(IReadOnlyList<(int Min, int Max)> dims, double minValue, double maxValue)
    {
        Dimensions = dims;
        MinValue = minValue;
        MaxValue = maxValue;
    }

    public string Dtype => Float32;

    /// <summary>Inclusive size range of each dimension (Min == Max for a fixed size).</summary>
    public IReadOnlyList<(int Min, int Max)> Dimensions { get; }

    public double MinValue { get; }

    public double MaxValue { get; }

    /// <summary>Largest element count an accepted tensor can have.</summary>
    public long MaxElements => Dimensions.Aggregate(1L, (n, d) => n * d.Max);

    /// <summary>"[1, 32, 32]" or "[48..96, 6]", for messages.</summary>
    public string Describe() => "[" + string.Join(", ", Dimensions.Select(d => d.Min == d.Max
        ? d.Min.ToString(CultureInfo.InvariantCulture)
        : $"{d.Min.ToString(CultureInfo.InvariantCulture)}..{d.Max.ToString(CultureInfo.InvariantCulture)}")) + "]";

    /// <summary>The spec, or the problems (as "field problem" pairs) that keep the entry from being one.</summary>
    public static (TensorInputSpec? Spec, IReadOnlyList<(string Field, string Problem)> Problems) Parse(PreprocessingSpec p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var problems = new List<(string, string)>();
        if (p.Dtype != Float32)
        {
            problems.Add(("dtype", $"must be \"{Float32}\" (got {(p.Dtype is null ? "nothing" : $"\"{p.Dtype}\"")})"));
        }

        var dims = new List<(int, int)>();
        if (p.Shape is not { Count: > 0 } shape)
        {
            problems.Add(("shape", "must list at least one dimension"));
        }
        else
        {
            for (int i = 0; i < shape.Count; i++)
            {
                if (Dimension(shape[i]) is { } d)
                {
                    dims.Add(d);
                }
                else
                {
                    problems.Add(($"shape[{i}]", "must be a size >= 1 or a [min, max] range of sizes with 1 <= min <= max"));
                }
            }
        }

        if (p.ValueRange is not { Count: 2 } range || !double.IsFinite(range[0]) || !double.IsFinite(range[1]) || range[0] > range[1])
        {
            problems.Add(("value_range", "must be [min, max] with finite min <= max"));
        }

        return problems.Count > 0 ? (null, problems) : (new TensorInputSpec(dims, p.ValueRange![0], p.ValueRange[1]), problems);
    }

    private static (int, int)? Dimension(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            return e.TryGetInt32(out int size) && size >= 1 ? (size, size) : null;
        }

        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 2)
        {
            return null;
        }

        var lo = e[0];
        var hi = e[1];
        return lo.ValueKind == JsonValueKind.Number && hi.ValueKind == JsonValueKind.Number
            && lo.TryGetInt32(out int min) && hi.TryGetInt32(out int max) && min >= 1 && min <= max
            ? (min, max)
            : null;
    }
}
