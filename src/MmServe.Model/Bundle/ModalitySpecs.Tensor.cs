using System.Text.Json;

namespace MmServe.Model.Bundle;

public sealed partial record PreprocessingSpec
{
    /// <summary>
    /// A raw tensor the client sends as a .npy file (input_tensor content parts; PandaGPT / ImageBind's depth, thermal,
    /// IMU): checked against <see cref="Dtype"/>, <see cref="Shape"/> and <see cref="ValueRange"/>, then fed to the
    /// encoder as it is with a batch dimension of 1 in front. See <see cref="TensorInputSpec"/>.
    /// </summary>
    public const string KindTensor = "tensor";

    /// <summary>kind "tensor": the one element type accepted ("float32").</summary>
    public string? Dtype { get; init; }

    /// <summary>kind "tensor": one entry per dimension, a size or an inclusive [min, max] range.</summary>
    public IReadOnlyList<JsonElement>? Shape { get; init; }

    /// <summary>kind "tensor": inclusive [min, max] of every element (NaN and infinities are always refused).</summary>
    public IReadOnlyList<double>? ValueRange { get; init; }
}
