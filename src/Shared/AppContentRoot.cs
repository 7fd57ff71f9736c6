using Microsoft.AspNetCore.Builder;

namespace MmServe.Hosting;

/// <summary>
/// The content root when none is given, for both apps (the server and the gateway link this file). ASP.NET Core takes
/// the working directory, so an app started by path from elsewhere (<c>dotnet src/MmServe.Api/bin/Release/net10.0/MmServe.Api.dll</c>
/// from the repo root, a systemd unit, a script) silently ran without the appsettings.json shipped beside it: its log
/// levels, worker list and limits fell back to the code's defaults (ASP.NET Core's per-request lines at Information,
/// for one; the gateway's gRPC port and health-check timings). When the working directory
/// has no appsettings.json and the app's own directory does, the app's directory is the content root; a content root
/// given on the command line or in the environment always wins. Relative model paths still resolve against the working
/// directory too (the server's ModelPathResolver).
/// </summary>
internal static class AppContentRoot
{
    private const string SettingsFile = "appsettings.json";

    public static WebApplicationOptions Options(string[] args) => new()
    {
        Args = args,
        ContentRootPath = IsGiven(args) ? null : Choose(Directory.GetCurrentDirectory(), AppContext.BaseDirectory),
    };

    /// <returns>The app's directory when only it holds appsettings.json; null (ASP.NET Core's default) otherwise.</returns>
    internal static string? Choose(string workingDirectory, string appDirectory) =>
        !File.Exists(Path.Combine(workingDirectory, SettingsFile)) && File.Exists(Path.Combine(appDirectory, SettingsFile))
            ? appDirectory
            : null;

    /// <summary>--contentRoot / /contentRoot on the command line, or ASPNETCORE_CONTENTROOT / DOTNET_CONTENTROOT.</summary>
    internal static bool IsGiven(string[] args) =>
        args.Any(a => a.TrimStart('-', '/').StartsWith("contentRoot", StringComparison.OrdinalIgnoreCase))
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"));
}
