using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// Every kind of bad start, run as the real server process: it exits with code 1 and prints one line on stderr that
/// names the setting, file or address, and no stack trace anywhere (an operator reads this in `kubectl logs`).
/// </summary>
public sealed partial class StartupProcessTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);

    public static TheoryData<string, string[], string[]> BadSettings() => new()
    {
        { "out of range", ["--Engine:MaxQueuedRequests=0"], ["Engine:MaxQueuedRequests must be at least 1"] },
        { "not a number", ["--Workers:0:IntraOpThreads=lots"], ["'lots'", "Workers:0:IntraOpThreads"] },
        { "not a duration", ["--Engine:ShutdownTimeout=soon"], ["'soon'", "Engine:ShutdownTimeout"] },
        { "unknown key", ["--Limits:Image:MaxWidthz=3"], ["Limits:Image:MaxWidthz is not a setting", "MaxWidth"] },
        { "unknown key in a Models entry", ["--Models:0:Paht=/models/x"], ["Models:0:Paht is not a setting", "Path"] },
        { "Models entry without a model", ["--Models:0:Path=/no/such/model"], ["Models:0:Path '/no/such/model'"] },
        { "missing model folder", ["--Model:Path=/no/such/model"], ["Model:Path '/no/such/model'"] },
        { "URL with a bad scheme", ["--urls=htp://127.0.0.1:abc"], ["urls", "'htp://127.0.0.1:abc'"] },
        { "URL with a bad port", ["--urls=http://127.0.0.1:99999"], ["urls", "'http://127.0.0.1:99999'"] },
        { "address not on this machine", ["--urls=http://192.0.2.1:18123"], ["cannot listen on urls http://192.0.2.1:18123", "AddressNotAvailable"] },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task BadSetting_ExitsWithOneLineNamingIt_AndNoStackTrace(string kind, string[] args, string[] expected)
    {
        using var server = await WorkerProcess.RunToExitAsync([.. DefaultArgs(), .. args], ExitTimeout);
        AssertOneLineFailure(server, expected, kind);
    }

    [Fact]
    public async Task SettingsFileThatIsNotJson_ExitsWithOneLineNamingTheFile()
    {
        var root = Directory.CreateTempSubdirectory("mmserve-bad-json");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root.FullName, "appsettings.json"), """{ "Engine": { "MaxQueuedRequests": 3, """);
            using var server = await WorkerProcess.RunToExitAsync([$"--contentRoot={root.FullName}", .. DefaultArgs()], ExitTimeout);
            AssertOneLineFailure(server, [Path.Combine(root.FullName, "appsettings.json"), "Could not parse the JSON file"], "bad JSON");
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task PortInUse_ExitsWithOneLineNamingTheAddress()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        using var server = await WorkerProcess.RunToExitAsync([$"--urls=http://127.0.0.1:{port}", "--Grpc:Host=127.0.0.1", "--Grpc:Port=0"], ExitTimeout);
        AssertOneLineFailure(server, [$"Failed to bind to address http://127.0.0.1:{port}: address already in use"], "port in use");
    }

    /// <summary>Loopback and an OS-picked gRPC port, so a test that does start cannot collide with anything.</summary>
    private static string[] DefaultArgs() => ["--urls=http://127.0.0.1:0", "--Grpc:Host=127.0.0.1", "--Grpc:Port=0"];

    private static void AssertOneLineFailure(WorkerProcess server, string[] expected, string kind)
    {
        var everything = $"stdout:\n{server.Stdout}\nstderr:\n{server.Stderr}";
        Assert.True(server.ExitCode == 1, $"{kind}: exit code {server.ExitCode}\n{everything}");
        var lines = server.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{kind}: expected one line on stderr\n{everything}");
        Assert.StartsWith("mmserve: failed to start: ", lines[0], StringComparison.Ordinal);
        Assert.All(expected, e => Assert.Contains(e, lines[0], StringComparison.Ordinal));
        Assert.False(StackFrame().IsMatch(everything), $"{kind}: a stack trace was printed\n{everything}");
        Assert.DoesNotContain("Unhandled exception", everything, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\s+at \S+", RegexOptions.Multiline)]
    private static partial Regex StackFrame();
}
