using System.Diagnostics;
using MmServe.Media.Ffmpeg;

namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>
/// The runner's kill paths, driven with endless lavfi sources (the runner itself accepts any arguments;
/// the hardened ones are built elsewhere). After every run no ffmpeg child of this process may remain.
/// </summary>
[Collection(FfmpegCollection.Name)]
public sealed class ToolProcessRunnerTests
{
    /// <summary>Raw 64x64 RGB frames forever, as fast as ffmpeg can make them.</summary>
    private static readonly string[] EndlessOutput =
        ["-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=1000", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"];

    /// <summary>Runs forever at real-time speed and writes nothing.</summary>
    private static readonly string[] EndlessSilence =
        ["-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=16x16:rate=10", "-f", "null", "-"];

    [FfmpegFact]
    public async Task Output_over_the_cap_kills_the_process()
    {
        var sink = new BufferingSink();

        var result = await Run(EndlessOutput, TimeSpan.FromSeconds(60), maxStdoutBytes: 1_000_000, sink);

        Assert.Equal(ProcessEnd.OutputLimitExceeded, result.End);
        Assert.InRange(result.StdoutBytes, 1, 1_000_000);
        Assert.Equal(result.StdoutBytes, sink.Written.Length);
        ChildProcesses.AssertNoneLeft();
    }

    [FfmpegFact]
    public async Task A_process_past_its_timeout_is_killed_and_reported_as_timed_out()
    {
        var clock = Stopwatch.StartNew();

        var result = await Run(EndlessSilence, TimeSpan.FromMilliseconds(500), maxStdoutBytes: 1000, new BufferingSink());

        Assert.Equal(ProcessEnd.TimedOut, result.End);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(10));
        ChildProcesses.AssertNoneLeft();
    }

    [FfmpegFact]
    public async Task Cancellation_kills_the_process_and_throws()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var request = Request(EndlessSilence, TimeSpan.FromSeconds(60), 1000);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ToolProcessRunner.RunAsync(request, new BufferingSink(), cancellation.Token));

        ChildProcesses.AssertNoneLeft();
    }

    [FfmpegFact]
    public async Task A_sink_that_has_enough_stops_the_process_which_was_visible_while_running()
    {
        var sink = new StopAfterFirstChunk();

        var result = await Run(EndlessOutput, TimeSpan.FromSeconds(60), long.MaxValue, sink);

        Assert.Equal(ProcessEnd.StoppedByReader, result.End);

        // Proves the leftover check can see a live child, so its empty answer below means something.
        Assert.Contains(sink.ChildrenWhileRunning, child => child.Contains("ffmpeg", StringComparison.Ordinal));
        ChildProcesses.AssertNoneLeft();
    }

    [FfmpegFact]
    public async Task Stderr_is_drained_but_only_its_start_is_kept()
    {
        string[] chatty = ["-hide_banner", "-loglevel", "debug", "-f", "lavfi", "-i", "testsrc=size=16x16:rate=25:duration=1", "-f", "null", "-"];
        var request = Request(chatty, TimeSpan.FromSeconds(60), 1000) with { MaxDiagnosticBytes = 100 };

        var result = await ToolProcessRunner.RunAsync(request, new BufferingSink(), CancellationToken.None);

        Assert.True(result.Succeeded, result.Diagnostics);
        Assert.InRange(result.Diagnostics.Length, 1, 100);
    }

    [FfmpegFact]
    public async Task The_tools_do_not_inherit_the_server_environment()
    {
        // FFREPORT makes ffmpeg write a log file wherever it says; an inherited one would let the
        // environment redirect tool output. Control first: a plain child does honour it.
        string report = Path.Combine(Path.GetTempPath(), $"mmserve-ffreport-{Guid.NewGuid():N}.log");
        Environment.SetEnvironmentVariable("FFREPORT", $"file={report}");
        try
        {
            FfmpegCli.Run("-version");
            Assert.True(File.Exists(report), "control: ffmpeg should honour FFREPORT when it inherits it");
            File.Delete(report);

            var result = await Run(["-version"], TimeSpan.FromSeconds(30), 64 * 1024, new BufferingSink());

            Assert.True(result.Succeeded);
            Assert.False(File.Exists(report));
        }
        finally
        {
            Environment.SetEnvironmentVariable("FFREPORT", null);
            File.Delete(report);
        }
    }

    [Fact]
    public async Task A_missing_executable_is_a_result_not_an_exception()
    {
        var request = new ProcessRunRequest("/nonexistent/ffmpeg", ["-version"], Path.GetTempPath(), TimeSpan.FromSeconds(5), 1000);

        var result = await ToolProcessRunner.RunAsync(request, new BufferingSink(), CancellationToken.None);

        Assert.Equal(ProcessEnd.FailedToStart, result.End);
    }

    private static Task<ProcessRunResult> Run(string[] arguments, TimeSpan timeout, long maxStdoutBytes, IStdoutSink sink) =>
        ToolProcessRunner.RunAsync(Request(arguments, timeout, maxStdoutBytes), sink, CancellationToken.None);

    private static ProcessRunRequest Request(string[] arguments, TimeSpan timeout, long maxStdoutBytes) =>
        new(TestFfmpeg.RequireTools().FfmpegPath!, arguments, Path.GetTempPath(), timeout, maxStdoutBytes);

    private sealed class StopAfterFirstChunk : IStdoutSink
    {
        public IReadOnlyList<string> ChildrenWhileRunning { get; private set; } = [];

        public bool Accept(ReadOnlySpan<byte> chunk)
        {
            ChildrenWhileRunning = ChildProcesses.Ffmpeg();
            return false;
        }
    }
}
