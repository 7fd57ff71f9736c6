namespace MmServe.Soak.Cli;

/// <summary>A command-line mistake; the message says which option and why.</summary>
internal sealed class OptionException(string message) : Exception(message);
