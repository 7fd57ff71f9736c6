using MmServe.Api.Auth;
using MmServe.Api.Errors;
using MmServe.Api.Grpc;
using MmServe.Api.Health;
using MmServe.Api.OpenAi.Audio;
using MmServe.Api.OpenAi.ChatCompletions;
using MmServe.Api.OpenAi.Images;
using MmServe.Api.OpenAi.Models;
using MmServe.Api.RateLimits;
using MmServe.Api.Swagger;
using MmServe.Api.Telemetry;

namespace MmServe.Api.Hosting;

/// <summary>
/// The request pipeline: errors outermost; browser security headers; CORS (before the key check: a preflight carries
/// no key); API keys; rate limits (which count a client by its key, and refuse before the body is read); then
/// Swagger (behind the key check so that Auth:AnonymousPaths decides whether it is open), health, the OpenAI
/// endpoints and the gRPC services.
/// </summary>
internal static class MmServeEndpointExtensions
{
    public static WebApplication MapMmServe(this WebApplication app)
    {
        app.MapMmServeTelemetry();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseStatusCodePages(ErrorHandlingMiddleware.WriteStatusCodeBodyAsync);
        app.UseMmServeSecurityHeaders();
        app.UseMmServeCors();
        app.UseMmServeApiKeys();
        app.UseMmServeRateLimits();
        app.UseMmServeSwagger();
        app.MapGet("/", () => TypedResults.Redirect("/swagger")).ExcludeFromDescription().AllowAnonymous();
        app.MapMmServeHealth();
        app.MapLoad();
        app.MapModels();
        app.MapChatCompletions();
        app.MapImages();
        app.MapAudio();
        app.MapMmServeGrpc();
        return app;
    }
}
