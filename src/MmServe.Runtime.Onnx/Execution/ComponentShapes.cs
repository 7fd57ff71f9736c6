using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>Shapes of batched component tensors as the manifest declares them.</summary>
internal static class ComponentShapes
{
    /// <summary>
    /// The shape of one item: every dimension after the batch one, which must be fixed in the manifest (e.g.
    /// [batch, 3, 64, 64] → [3, 64, 64]); a symbolic one fails with the field named.
    /// </summary>
    public static long[] PerItem(ModelBundle bundle, string component, string field, TensorSpec tensor) =>
        [.. tensor.Shape.Skip(1).Select(d => d.Size ?? throw new BundleValidationException(
            $"{bundle.ManifestPath}: components.{component}.{field}.shape: only the batch dimension may be symbolic"))];
}
