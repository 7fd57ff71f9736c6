using Microsoft.Extensions.Options;

namespace MmServe.Api.Hosting;

/// <summary>
/// Configuration section "Shutdown": how a SIGTERM is drained (<see cref="GracefulShutdown"/>). The time requests in
/// flight get to finish is Engine:ShutdownTimeout.
/// </summary>
internal sealed class ShutdownOptions
{
    public const string SectionName = "Shutdown";

    /// <summary>
    /// After SIGTERM, how long the server keeps accepting and serving new requests while /health/ready already
    /// answers 503, so that load balancers and gateways notice and stop routing before the listener closes.
    /// 0 (the default) closes it at once; behind Kubernetes a few seconds (or a preStop sleep) is usual.
    /// </summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// The host's own shutdown timeout is DrainDelay + Engine:ShutdownTimeout + this margin: past it the host cuts
    /// connections, so the margin leaves time for the "abort" endings to be written after the engine stopped.
    /// </summary>
    public static readonly TimeSpan HostMargin = TimeSpan.FromSeconds(1);
}

/// <summary>A negative or absurd drain delay stops the start naming the key.</summary>
internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    /// <summary>Longer than any grace period a platform gives (Kubernetes' default is 30 s); almost surely a unit mistake.</summary>
    private static readonly TimeSpan MaxDrainDelay = TimeSpan.FromMinutes(10);

    public ValidateOptionsResult Validate(string? name, ShutdownOptions options) =>
        options.DrainDelay < TimeSpan.Zero || options.DrainDelay > MaxDrainDelay
            ? ValidateOptionsResult.Fail($"Shutdown:DrainDelay must be between 00:00:00 and {MaxDrainDelay:c} (got {options.DrainDelay:c}).")
            : ValidateOptionsResult.Success;
}
