namespace MmServe.Soak.Load;

/// <summary>How one stream ended: Ok only when a finish_reason chunk and then [DONE] arrived.</summary>
internal readonly record struct StreamOutcome(bool Ok, string? Error)
{
    public static StreamOutcome Success { get; } = new(true, null);

    public static StreamOutcome Failed(string error) => new(false, error);
}
