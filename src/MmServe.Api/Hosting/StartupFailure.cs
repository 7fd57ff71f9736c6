using System.Net.Sockets;
using Microsoft.Extensions.Options;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Api.Hosting;

/// <summary>
/// Turns a failed start caused by the operator's setup (a bad setting, a malformed bundle or model folder, a CUDA
/// worker where CUDA cannot be used) into one line on stderr and exit code 1, instead of an unhandled-exception dump:
/// the line names the file and field or the setting, which is all the operator needs. Bugs still crash with their stack trace (the host's own "Hosting failed
/// to start" log, which would repeat a setup error with a stack trace, is silenced in appsettings.json).
/// </summary>
public static class StartupFailure
{
    public const int ExitCode = 1;

    /// <summary>
    /// "Hosting:ExitOnSetupError" (default true). Hosts that run the program in-process to start it themselves
    /// (WebApplicationFactory in the tests) set it false: they need the exception, not an exit code.
    /// </summary>
    /// <param name="configuration">Null when reading the configuration itself failed (a settings file that is not JSON).</param>
    public static bool ExitOnSetupError(IConfiguration? configuration) =>
        configuration is null || !bool.TryParse(configuration["Hosting:ExitOnSetupError"], out var exit) || exit;

    public static bool IsSetupError(Exception e) =>
        e switch
        {
            BundleValidationException or OptionsValidationException or ExecutionProviderUnavailableException => true,
            // A settings file that is not JSON: the configuration provider names the file, its inner error the line.
            InvalidDataException { InnerException: not null } data => data.Message.StartsWith("Failed to load configuration from file", StringComparison.Ordinal),
            // Kestrel could not listen: the port is taken or the address is not this machine's.
            IOException bind => bind.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal),
            // An address that is not this machine's reaches us as the bare socket error, without the address.
            SocketException { SocketErrorCode: SocketError.AddressNotAvailable or SocketError.AccessDenied } => true,
            // Options validated on start come as one aggregate; an invalid "Workers" is reported twice in it (once for
            // itself, once through Engine, which reads it).
            AggregateException { InnerExceptions.Count: > 0 } aggregate => aggregate.InnerExceptions.All(IsSetupError),
            _ => false,
        };

    /// <summary>The error on one line (a bundle's several problems are joined with "; ").</summary>
    /// <param name="e">What stopped the start.</param>
    /// <param name="configuration">Names the addresses a bare socket error was about; null if it could not be read.</param>
    public static string Describe(Exception e, IConfiguration? configuration = null) => e switch
    {
        SocketException socket => $"cannot listen on {Addresses(configuration)}: {socket.Message} ({socket.SocketErrorCode})",
        AggregateException { InnerExceptions.Count: > 0 } aggregate => string.Join("; ", aggregate.InnerExceptions.Select(inner => Describe(inner, configuration)).Distinct(StringComparer.Ordinal)),
        BundleValidationException bundle => string.Join("; ", bundle.Errors),
        OptionsValidationException options => string.Join("; ", options.Failures),
        InvalidDataException or IOException => WithReasons(e),
        _ => e.Message.ReplaceLineEndings("; "),
    };

    /// <summary>The REST and gRPC addresses as configured: one of them could not be bound.</summary>
    private static string Addresses(IConfiguration? configuration)
    {
        if (configuration is null)
        {
            return "the configured addresses";
        }

        var urls = configuration[WebHostDefaults.ServerUrlsKey] ?? configuration[WebHostDefaults.HttpPortsKey] ?? "(default)";
        return $"urls {urls} or Grpc:Host {configuration["Grpc:Host"] ?? "(default)"} Grpc:Port {configuration["Grpc:Port"] ?? "(default)"}";
    }

    /// <summary>The message and its inner ones ("Failed to load … file 'x'. Could not parse the JSON file. …"), on one line.</summary>
    private static string WithReasons(Exception e)
    {
        var parts = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
        {
            var message = current.Message.ReplaceLineEndings(" ").Trim();
            if (!parts.Any(p => p.Contains(message, StringComparison.Ordinal)))
            {
                parts.Add(message);
            }
        }

        return string.Join(" ", parts);
    }
}
