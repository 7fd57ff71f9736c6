using Microsoft.Extensions.Options;

namespace MmServe.Api.Grpc;

/// <summary>
/// Configuration section "Grpc": the cleartext HTTP/2 (h2c) endpoint of the gRPC API. It is a port of its own
/// because Kestrel cannot serve HTTP/1.1 and prior-knowledge HTTP/2 on one cleartext endpoint (without TLS there
/// is no ALPN to choose between them), and the REST API must keep answering HTTP/1.1 clients on --urls.
/// </summary>
internal sealed class GrpcOptions
{
    public const string SectionName = "Grpc";

    /// <summary>Serve the gRPC API at all; false binds no gRPC port (REST is unaffected).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where to listen: "localhost", an IP address, or "*" / "0.0.0.0" for every interface.</summary>
    public string Host { get; set; } = "localhost";

    /// <summary>h2c port; 0 lets the OS pick a free one (tests), logged at start.</summary>
    public int Port { get; set; } = 8081;

    /// <summary>Largest ChatRequest accepted, in bytes; larger ones fail with RESOURCE_EXHAUSTED. Default: Limits:MaxRequestBodyBytes.</summary>
    public long? MaxReceiveMessageBytes { get; set; }

    /// <summary>Serve grpc.reflection (grpcurl and other tools discover the API through it).</summary>
    public bool EnableReflection { get; set; } = true;
}

/// <summary>A bad "Grpc" value stops the start with a message naming the key.</summary>
internal sealed class GrpcOptionsValidator : IValidateOptions<GrpcOptions>
{
    public ValidateOptionsResult Validate(string? name, GrpcOptions options)
    {
        var failures = new List<string>();
        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"Grpc:Port must be between 0 and 65535 (got {options.Port}).");
        }

        if (string.IsNullOrWhiteSpace(options.Host))
        {
            failures.Add("Grpc:Host must not be empty (use localhost, an IP address or *).");
        }
        else if (options.Host == "localhost" && options.Port == 0)
        {
            failures.Add("Grpc:Port 0 needs an IP address as Grpc:Host (e.g. 127.0.0.1): Kestrel cannot pick a free port for localhost.");
        }

        if (options.MaxReceiveMessageBytes is { } max && (max <= 0 || max > int.MaxValue))
        {
            failures.Add($"Grpc:MaxReceiveMessageBytes must be between 1 and {int.MaxValue} (got {max}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
