namespace MmServe.Model.Bundle;

/// <summary>
/// A bundle is malformed. Each error names the file and the JSON field path, e.g.
/// "models/x/manifest.json: decoder.num_kv_heads must be > 0"; the message lists all of them, one per line,
/// so one failed start shows every problem.
/// </summary>
public sealed class BundleValidationException : Exception
{
    public BundleValidationException(IReadOnlyList<string> errors, Exception? innerException = null)
        : base(string.Join(Environment.NewLine, errors), innerException)
    {
        Errors = errors;
    }

    public BundleValidationException(string error, Exception? innerException = null)
        : this([error], innerException)
    {
    }

    public IReadOnlyList<string> Errors { get; }
}
