using MmServe.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddMmServe();

var app = builder.Build();
app.MapMmServe();
app.Run();
