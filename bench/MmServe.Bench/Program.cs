using MmServe.Bench.Cli;
using MmServe.Bench.Running;

namespace MmServe.Bench;

internal static class Program
{
    /// <summary>0: done; 1: the server answered no request; 2: bad command line.</summary>
    public static async Task<int> Main(string[] args)
    {
        BenchOptions? options;
        try
        {
            options = OptionParser.Parse(args);
        }
        catch (OptionException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message} (see --help)");
            return 2;
        }

        if (options is null)
        {
            Console.WriteLine(OptionParser.Help);
            return 0;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // First Ctrl+C stops the benchmark cleanly (in-flight requests are cancelled, which frees their server slots).
            e.Cancel = true;
            cts.Cancel();
        };

        try
        {
            return await BenchSession.RunAsync(options, Console.Out, cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("cancelled");
            return 130;
        }
    }
}
