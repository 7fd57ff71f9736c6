namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Components that run as one unit over a batch of same-shaped items laid out back to back, e.g. an encoder +
/// input projector or an output projector + generator. <see cref="ComponentBatcher"/> coalesces their items.
/// Implementations must allow concurrent <see cref="Run"/> calls (ORT sessions do).
/// </summary>
public interface IBatchedChain
{
    /// <summary>Floats of one input item.</summary>
    int InputLength { get; }

    /// <summary>Floats of one output item.</summary>
    int OutputLength { get; }

    /// <summary>Runs <paramref name="count"/> items; returns count x <see cref="OutputLength"/> floats.</summary>
    /// <exception cref="OperationCanceledException">Or an ORT error, once <paramref name="ct"/> has terminated the run.</exception>
    float[] Run(ReadOnlyMemory<float> inputs, int count, CancellationToken ct);
}
