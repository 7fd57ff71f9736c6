using Microsoft.Extensions.Options;

namespace MmServe.Gateway.Options;

/// <summary>A bad "Gateway" value stops the start with a message naming the key.</summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        bool hasStatic = options.Workers.Count > 0;
        bool hasDns = !string.IsNullOrWhiteSpace(options.Dns.Name);
        if (hasStatic == hasDns)
        {
            failures.Add("Set exactly one of Gateway:Workers (a static list) and Gateway:Dns:Name (a headless Service).");
        }

        for (int i = 0; i < options.Workers.Count; i++)
        {
            CheckUrl(failures, $"Gateway:Workers:{i}:Rest", options.Workers[i].Rest, required: true);
            CheckUrl(failures, $"Gateway:Workers:{i}:Grpc", options.Workers[i].Grpc, required: false);
        }

        if (hasDns)
        {
            CheckPort(failures, "Gateway:Dns:RestPort", options.Dns.RestPort, allowZero: false);
            CheckPort(failures, "Gateway:Dns:GrpcPort", options.Dns.GrpcPort, allowZero: true);
            Positive(failures, "Gateway:Dns:RefreshInterval", options.Dns.RefreshInterval);
        }

        if (options.Grpc.Enabled)
        {
            CheckPort(failures, "Gateway:Grpc:Port", options.Grpc.Port, allowZero: true);
            if (string.IsNullOrWhiteSpace(options.Grpc.Host))
            {
                failures.Add("Gateway:Grpc:Host must not be empty (use localhost, an IP address or *).");
            }
            else if (options.Grpc.Host == "localhost" && options.Grpc.Port == 0)
            {
                failures.Add("Gateway:Grpc:Port 0 needs an IP address as Gateway:Grpc:Host (e.g. 127.0.0.1).");
            }
        }

        if (options.WorkerApiKey is { } key && key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            // Never quote the value: it is a key.
            failures.Add("Gateway:WorkerApiKey must be a key without spaces or control characters (or unset or empty).");
        }

        Positive(failures, "Gateway:HealthCheck:Interval", options.HealthCheck.Interval);
        Positive(failures, "Gateway:HealthCheck:Timeout", options.HealthCheck.Timeout);
        Positive(failures, "Gateway:HealthCheck:ModelsRefreshInterval", options.HealthCheck.ModelsRefreshInterval);
        Positive(failures, "Gateway:Load:Interval", options.Load.Interval);
        Positive(failures, "Gateway:Load:StaleAfter", options.Load.StaleAfter);
        Positive(failures, "Gateway:Forwarding:ActivityTimeout", options.Forwarding.ActivityTimeout);
        Positive(failures, "Gateway:Forwarding:ConnectTimeout", options.Forwarding.ConnectTimeout);
        if (options.Routing.AffinityMaxExtraLoad < 0)
        {
            failures.Add($"Gateway:Routing:AffinityMaxExtraLoad must not be negative (got {options.Routing.AffinityMaxExtraLoad}).");
        }

        if (options.Routing.AffinityCapacity < 0)
        {
            failures.Add($"Gateway:Routing:AffinityCapacity must not be negative (got {options.Routing.AffinityCapacity}; 0 turns affinity off).");
        }

        if (options.Forwarding.MaxRequestBodyBytes is <= 0 or > int.MaxValue)
        {
            failures.Add($"Gateway:Forwarding:MaxRequestBodyBytes must be between 1 and {int.MaxValue} (got {options.Forwarding.MaxRequestBodyBytes}).");
        }

        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            failures.Add("Gateway:ShutdownTimeout must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckUrl(List<string> failures, string key, string? value, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                failures.Add($"{key} is required (e.g. http://10.0.0.5:8080).");
            }

            return;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.PathAndQuery != "/")
        {
            failures.Add($"{key} must be an absolute http(s) URL without a path (got '{value}').");
        }
    }

    private static void CheckPort(List<string> failures, string key, int port, bool allowZero)
    {
        if (port < (allowZero ? 0 : 1) || port > 65535)
        {
            failures.Add($"{key} must be between {(allowZero ? 0 : 1)} and 65535 (got {port}).");
        }
    }

    private static void Positive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{key} must be positive (got {value}).");
        }
    }
}
