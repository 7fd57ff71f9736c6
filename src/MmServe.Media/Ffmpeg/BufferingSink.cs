namespace MmServe.Media.Ffmpeg;

/// <summary>Keeps all of stdout; its size is bounded by <see cref="ProcessRunRequest.MaxStdoutBytes"/>, not here.</summary>
internal sealed class BufferingSink(int initialCapacity = 0) : IStdoutSink
{
    private readonly MemoryStream _buffer = new(initialCapacity);

    public ReadOnlyMemory<byte> Written => new(_buffer.GetBuffer(), 0, (int)_buffer.Length);

    public bool Accept(ReadOnlySpan<byte> chunk)
    {
        _buffer.Write(chunk);
        return true;
    }
}
