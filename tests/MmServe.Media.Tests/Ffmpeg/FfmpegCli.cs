using System.Diagnostics;

namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>Plain, unhardened ffmpeg runs for making test media (and for showing what hostile inputs would do without the hardening).</summary>
internal static class FfmpegCli
{
    public static (int ExitCode, byte[] Stdout) Run(params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(TestFfmpeg.RequireTools().FfmpegPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in new[] { "-nostdin", "-hide_banner", "-loglevel", "error", "-y" }.Concat(arguments))
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException("test media generation took over 120 s: " + string.Join(' ', arguments));
        }

        copy.GetAwaiter().GetResult();
        stderr.GetAwaiter().GetResult();
        return (process.ExitCode, stdout.ToArray());
    }

    /// <summary>Runs ffmpeg to write <paramref name="outputPath"/> and returns its bytes; the arguments precede the output path.</summary>
    public static byte[] Make(string outputPath, params string[] arguments)
    {
        var (exitCode, _) = Run([.. arguments, outputPath]);
        Assert.True(exitCode == 0, $"ffmpeg {string.Join(' ', arguments)} exited with {exitCode}");
        return File.ReadAllBytes(outputPath);
    }
}
