using MmServe.Gateway.Hosting;
using MmServe.Hosting;

// appsettings.json beside the gateway applies wherever it is started from (AppContentRoot, shared with the server).
var builder = WebApplication.CreateBuilder(AppContentRoot.Options(args));
builder.AddGateway();
var app = builder.Build();
app.MapGateway();
await app.RunAsync();
