namespace MmServe.Media.Images.Structure;

/// <summary>The data of the given chunks read back to back, without copying them out of the file.</summary>
internal sealed class ChunkDataStream(ReadOnlyMemory<byte> file, PngChunk[] chunks) : Stream
{
    private int _chunk;
    private int _offset;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (_chunk < chunks.Length && _offset == chunks[_chunk].Length)
        {
            _chunk++;
            _offset = 0;
        }

        if (_chunk == chunks.Length)
        {
            return 0;
        }

        var source = file.Span.Slice(chunks[_chunk].DataStart + _offset, chunks[_chunk].Length - _offset);
        int n = Math.Min(source.Length, buffer.Length);
        source[..n].CopyTo(buffer);
        _offset += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
