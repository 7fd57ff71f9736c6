namespace MmServe.Media.Ffmpeg;

/// <summary>Consumes a tool's stdout chunk by chunk while it runs, so large outputs never need one buffer.</summary>
internal interface IStdoutSink
{
    /// <summary>Takes the next chunk; returns false to have the process killed (the sink has what it needs, or too much).</summary>
    bool Accept(ReadOnlySpan<byte> chunk);
}
