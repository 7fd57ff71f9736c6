using MmServe.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddMmServe();
try
{
    var app = builder.Build();
    app.MapMmServe();
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (StartupFailure.IsSetupError(e) && StartupFailure.ExitOnSetupError(builder.Configuration))
{
    await Console.Error.WriteLineAsync($"mmserve: failed to start: {StartupFailure.Describe(e)}");
    return StartupFailure.ExitCode;
}
