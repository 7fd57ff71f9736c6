using MmServe.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddMmServe();

var app = builder.Build();
app.MapMmServe();
try
{
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (StartupFailure.IsSetupError(e))
{
    await Console.Error.WriteLineAsync($"mmserve: failed to start: {StartupFailure.Describe(e)}");
    return StartupFailure.ExitCode;
}
