namespace MmServe.Bench.Cli;

/// <summary>A command-line mistake; the message is shown to the user as is.</summary>
internal sealed class OptionException(string message) : Exception(message);
