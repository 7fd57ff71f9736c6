using MmServe.Hosting;
using MmServe.Api.Hosting;

// Everything from reading the settings to binding the ports is inside the try: a bad setup anywhere in it ends as
// one line naming the setting, file or address (StartupFailure), not a stack trace.
WebApplicationBuilder? builder = null;
try
{
    builder = WebApplication.CreateBuilder(AppContentRoot.Options(args));
    builder.AddMmServe();
    var app = builder.Build();
    app.MapMmServe();
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (StartupFailure.IsSetupError(e) && StartupFailure.ExitOnSetupError(builder?.Configuration))
{
    await Console.Error.WriteLineAsync($"mmserve: failed to start: {StartupFailure.Describe(e, builder?.Configuration)}");
    return StartupFailure.ExitCode;
}
