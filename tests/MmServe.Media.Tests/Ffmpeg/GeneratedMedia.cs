using System.Collections.Concurrent;
using System.Globalization;

namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>
/// Tiny media made with ffmpeg's lavfi sources on first use and shared by the ffmpeg tests. Video frames
/// are solid colours that encode the frame number (red = 10·n, green = 255 − 10·n), stored losslessly,
/// so a test can tell exactly which frame it got back.
/// </summary>
public sealed class GeneratedMedia : IDisposable
{
    private readonly ConcurrentDictionary<string, byte[]> _made = new();

    public GeneratedMedia()
    {
        // Nothing is generated here: with ffmpeg missing the tests skip, and must not fail in a fixture.
        Directory = System.IO.Directory.CreateTempSubdirectory("mmserve-test-media-").FullName;
    }

    public string Directory { get; }

    /// <summary>24 frames of 16x16 at 24 fps in mp4 (lossless H.264 RGB, moov at the end).</summary>
    public byte[] NumberedFramesMp4(int frames = 24) => Make($"numbered{frames}.mp4", NumberedFramesSource(frames), "-c:v", "libx264rgb", "-qp", "0", "-pix_fmt", "rgb24");

    /// <summary>The same frames with the index (moov) first, as streaming-friendly files are written.</summary>
    public byte[] NumberedFramesFastStartMp4() => Make("numbered24-faststart.mp4", NumberedFramesSource(24), "-c:v", "libx264rgb", "-qp", "0", "-pix_fmt", "rgb24", "-movflags", "+faststart");

    /// <summary>
    /// The 24-frame clip cut at 0.5 s by stream copy: an edit list hides frames 0–11, but their packets
    /// stay in the file (decoding frame 12 needs them), so 24 packets decode to 12 frames.
    /// </summary>
    public byte[] EditListCutMp4()
    {
        NumberedFramesMp4();
        return Make("cut.mp4", ["-ss", "0.5", "-i", PathOf("numbered24.mp4")], "-c", "copy");
    }

    public byte[] NumberedFramesWebm() => Make("numbered12.webm", NumberedFramesSource(12), "-c:v", "libvpx", "-b:v", "200k");

    public byte[] NumberedFramesGif() => Make("numbered6.gif", NumberedFramesSource(6));

    /// <summary>A 16x16 clip at 1 fps lasting an hour: cheap to make, but over every default limit.</summary>
    public byte[] HourLongMp4() => Make(
        "hour.mp4",
        ["-f", "lavfi", "-i", "color=c=gray:s=16x16:r=1:d=3600"],
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "3600", "-threads", "1");

    /// <summary>A 440 Hz sine (amplitude 1/8) of <paramref name="seconds"/>, encoded with <paramref name="codecArguments"/>.</summary>
    public byte[] Sine(string fileName, int sampleRate, double seconds, params string[] codecArguments) => Make(
        fileName,
        ["-f", "lavfi", "-i", Invariant($"sine=frequency=440:sample_rate={sampleRate}:duration={seconds}")],
        codecArguments);

    /// <summary>Stereo 440 Hz: left at amplitude 0.5, right at 0.25, so an average gives 0.375.</summary>
    public byte[] StereoSineFlac() => Make(
        "stereo.flac",
        ["-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*440*t)|0.25*sin(2*PI*440*t):s=16000:d=1"],
        "-c:a", "flac");

    public string PathOf(string fileName) => Path.Combine(Directory, fileName);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string[] NumberedFramesSource(int frames) =>
    [
        "-f", "lavfi", "-i",
        Invariant($"color=c=black:s=16x16:r=24:d={frames / 24.0},format=rgb24,geq=r='10*N':g='255-10*N':b='128'"),
        "-frames:v", Invariant($"{frames}"),
    ];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private byte[] Make(string fileName, string[] input, params string[] output) =>
        _made.GetOrAdd(fileName, name => FfmpegCli.Make(PathOf(name), [.. input, .. output]));
}
