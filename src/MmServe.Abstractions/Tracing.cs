using System.Diagnostics;

namespace MmServe.Abstractions;

/// <summary>
/// MmServe's one ActivitySource, shared by the serving layer (request spans, media) and the runtime (batched
/// encoder and generator runs), so one <c>AddSource("MmServe")</c> collects every span of the product.
/// </summary>
public static class Tracing
{
    public const string SourceName = "MmServe";

    public static ActivitySource Source { get; } = new(SourceName);
}
