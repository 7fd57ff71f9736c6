using MmServe.Soak.Cli;

namespace MmServe.Soak;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        SoakOptions? options;
        try
        {
            options = OptionParser.Parse(args);
        }
        catch (OptionException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message} (see --help)");
            return SoakSession.BadSetup;
        }

        if (options is null)
        {
            Console.WriteLine(OptionParser.Help);
            return 0;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // Ctrl+C ends the soak early but still prints the verdict over the samples taken.
            e.Cancel = true;
            cts.Cancel();
        };

        return await SoakSession.RunAsync(options, Console.Out, cts.Token);
    }
}
