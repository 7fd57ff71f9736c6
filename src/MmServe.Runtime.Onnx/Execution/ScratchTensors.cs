using Microsoft.ML.OnnxRuntime;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Grow-only scratch arrays for an executor's run inputs, and OrtValues over their first elements: a run writes its
/// inputs into arrays it keeps, instead of allocating tensors proportional to batch and context every step.
/// </summary>
internal static class ScratchTensors
{
    /// <summary>An OrtValue of <paramref name="shape"/> over the first elements of <paramref name="array"/> (which may be longer).</summary>
    public static OrtValue View<T>(T[] array, long[] shape)
        where T : unmanaged
    {
        long elements = 1;
        foreach (long d in shape)
        {
            elements *= d;
        }

        // A zero-length tensor (no past yet) still needs a valid pointer: an empty array's memory is one.
        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, array.AsMemory(0, (int)elements), shape);
    }

    /// <summary>The first <paramref name="length"/> elements of <paramref name="array"/>, zeroed, growing it (doubling) when short.</summary>
    public static Span<T> Cleared<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[Math.Max(length, array.Length * 2)];
        }

        var span = array.AsSpan(0, length);
        span.Clear();
        return span;
    }
}
