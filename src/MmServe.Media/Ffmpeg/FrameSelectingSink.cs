namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Splits a raw RGB24 stream into frames as it arrives and copies out only the wanted ones, so memory
/// stays at one buffer per distinct wanted frame however long the video is. Asks for the decoder to be
/// killed once more than <c>maxFrames</c> frames have arrived.
/// </summary>
internal sealed class FrameSelectingSink : IStdoutSink
{
    private readonly int _frameBytes;
    private readonly HashSet<int> _wanted;
    private readonly int _maxFrames;
    private readonly Dictionary<int, byte[]> _kept = [];
    private byte[]? _current;
    private int _filled;

    public FrameSelectingSink(int frameBytes, IEnumerable<int> wantedIndices, int maxFrames)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frameBytes);
        _frameBytes = frameBytes;
        _wanted = [.. wantedIndices];
        _maxFrames = maxFrames;
        _current = NewBufferIfWanted(0);
    }

    /// <summary>Complete frames seen so far.</summary>
    public int FrameCount { get; private set; }

    /// <summary>True when the stream ended inside a frame: the output was cut, or its size was not the probed size.</summary>
    public bool EndsMidFrame => _filled != 0;

    public bool Accept(ReadOnlySpan<byte> chunk)
    {
        while (!chunk.IsEmpty)
        {
            int take = Math.Min(chunk.Length, _frameBytes - _filled);
            if (_current is not null)
            {
                chunk[..take].CopyTo(_current.AsSpan(_filled));
            }

            _filled += take;
            chunk = chunk[take..];
            if (_filled == _frameBytes)
            {
                if (_current is not null)
                {
                    _kept[FrameCount] = _current;
                }

                FrameCount++;
                _filled = 0;
                if (FrameCount > _maxFrames)
                {
                    return false;
                }

                _current = NewBufferIfWanted(FrameCount);
            }
        }

        return true;
    }

    public byte[]? Frame(int index) => _kept.GetValueOrDefault(index);

    private byte[]? NewBufferIfWanted(int index) => _wanted.Contains(index) ? new byte[_frameBytes] : null;
}
