namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// Grow-only float buffers for the 2 x layers KV tensors of one batch layout [B, kv_heads, T, head_dim].
/// Two sets ping-pong: one holds the current past, the decoder writes its present into the other, so a
/// steady decode step neither allocates nor copies KV outside ONNX Runtime's own concatenation.
/// </summary>
internal sealed class KvBufferSet
{
    private readonly float[][] _tensors;

    public KvBufferSet(int tensorCount)
    {
        _tensors = new float[tensorCount][];
        for (int i = 0; i < tensorCount; i++)
        {
            _tensors[i] = [];
        }
    }

    public int Count => _tensors.Length;

    /// <summary>Ensures each tensor holds at least <paramref name="elements"/> floats (contents are not kept on growth).</summary>
    public void EnsureCapacity(int elements)
    {
        for (int i = 0; i < _tensors.Length; i++)
        {
            if (_tensors[i].Length < elements)
            {
                _tensors[i] = new float[Math.Max(elements, _tensors[i].Length * 3 / 2)];
            }
        }
    }

    public float[] this[int index] => _tensors[index];
}
