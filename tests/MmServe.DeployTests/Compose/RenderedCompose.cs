using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MmServe.DeployTests.Infrastructure;

namespace MmServe.DeployTests.Compose;

/// <summary>docker-compose.yml as `docker-compose config` resolves it (anchors merged, paths absolute), parsed.</summary>
internal sealed partial class RenderedCompose
{
    private static readonly Lazy<Task<RenderedCompose>> Gpu = new(() => RenderAsync(["--profile", "gpu"]));

    private RenderedCompose(JsonObject root) => Root = root;

    public JsonObject Root { get; }

    public JsonObject Services => Root["services"]!.AsObject();

    /// <summary>With the gpu profile on, so that every service is there.</summary>
    public static Task<RenderedCompose> WithGpuProfileAsync() => Gpu.Value;

    public static async Task<RenderedCompose> RenderAsync(IEnumerable<string> options)
    {
        var result = await ProcessRunner.RunAsync("docker-compose", [.. options, "-f", RepoFiles.ComposeFile, "config"], RepoFiles.Root, TimeSpan.FromMinutes(1));
        result.EnsureSuccess("docker-compose config");
        return new RenderedCompose(YamlJson.Parse(result.Stdout).AsObject());
    }

    public JsonObject Service(string name) => Services[name]?.AsObject() ?? throw new InvalidOperationException($"docker-compose.yml has no service {name}");

    public static IReadOnlyList<string> Profiles(JsonObject service) => [.. service["profiles"]?.AsArray().Select(p => (string)p!) ?? []];

    /// <summary>The host file or folder bind-mounted at <paramref name="containerPath"/>, or null.</summary>
    public static string? HostPathMountedAt(JsonObject service, string containerPath)
    {
        foreach (var volume in service["volumes"]?.AsArray() ?? [])
        {
            if (volume is JsonValue)
            {
                var parts = ((string)volume!).Split(':');
                if (parts.Length >= 2 && parts[1] == containerPath && Path.IsPathRooted(parts[0]))
                {
                    return parts[0];
                }
            }
            else if ((string?)volume!["target"] == containerPath && (string?)volume["type"] == "bind")
            {
                return (string?)volume["source"];
            }
        }

        return null;
    }

    public static IEnumerable<KeyValuePair<string, string?>> Environment(JsonObject service) =>
        service["environment"] is JsonObject env ? env.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.ToString())) : [];

    /// <summary>The URL in a healthcheck test command.</summary>
    public static Uri HealthcheckUrl(JsonObject service)
    {
        var test = string.Join(' ', service["healthcheck"]!["test"]!.AsArray().Select(t => (string)t!));
        return new Uri(UrlPattern().Match(test) is { Success: true } m ? m.Value : throw new InvalidOperationException($"no URL in healthcheck `{test}`"));
    }

    /// <summary>A compose duration: 90s, 1m30s, 2m, 1h.</summary>
    public static TimeSpan Duration(string text)
    {
        var total = TimeSpan.Zero;
        foreach (Match part in DurationPattern().Matches(text))
        {
            var value = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            total += part.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                "ms" => TimeSpan.FromMilliseconds(value),
                _ => throw new FormatException(text),
            };
        }

        return total;
    }

    [GeneratedRegex(@"https?://[^\s""']+")]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"([0-9.]+)(ms|h|m|s)")]
    private static partial Regex DurationPattern();
}
