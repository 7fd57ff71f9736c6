using MmServe.Api.Hosting;
using System.Globalization;
using System.Threading.RateLimiting;
using Grpc.Core;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using MmServe.Api.Errors;
using MmServe.Api.Grpc;

namespace MmServe.Api.RateLimits;

/// <summary>
/// Per-client rate limits, off by default. Requests per minute go through ASP.NET Core's rate-limiting middleware
/// (one request = one permit, refused before the body is read); tokens per minute are reserved by the session once
/// the prompt's length is known (<see cref="TokenBudgets"/>). Both answer 429 with Retry-After and OpenAI's
/// error body, or RESOURCE_EXHAUSTED with grpc-retry-pushback-ms, and every limited response carries x-ratelimit-*.
/// </summary>
internal static partial class RateLimitExtensions
{
    public static IServiceCollection AddMmServeRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>()
            .BindStrictly(RateLimitOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddSingleton(sp => new TokenBudgets(sp.GetService<ClientRateLimiters>()));

        // Whether limits are on decides which services and middleware exist (as for API keys).
        var options = configuration.GetSection(RateLimitOptions.SectionName).Get<RateLimitOptions>() ?? new RateLimitOptions();
        if (!options.Enabled)
        {
            return services;
        }

        services.AddSingleton<ClientRateLimiters>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<ClientRateLimiters, ILoggerFactory>((rate, limiters, loggers) =>
        {
            rate.GlobalLimiter = limiters.Requests.WithTranslatedKey<HttpContext>(RateLimitClient.Of, leaveOpen: true);
            rate.OnRejected = (context, ct) => RejectAsync(context, limiters, loggers.CreateLogger(typeof(RateLimitExtensions).FullName!));
        });
        return services;
    }

    /// <summary>After authentication (the client is its key), before anything reads the body.</summary>
    public static WebApplication UseMmServeRateLimits(this WebApplication app)
    {
        if (app.Services.GetService<ClientRateLimiters>() is not { } limiters)
        {
            return app;
        }

        app.UseWhen(context => RateLimitClient.IsLimited(context.Request.Path), limited =>
        {
            limited.Use((context, next) =>
            {
                RateLimitHeaders.WriteOnStarting(context, limiters, RateLimitClient.Of(context));
                return next(context);
            });
            limited.UseRateLimiter();
        });
        return app;
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, ClientRateLimiters limiters, ILogger logger)
    {
        var context = rejected.HttpContext;
        var client = RateLimitClient.Of(context);
        TimeSpan? retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null;
        var message = $"Rate limit reached for requests per minute (RPM): Limit {limiters.LimitsOf(client).Requests}."
            + (retryAfter is { } r ? $" Please try again in {RateLimitHeaders.FormatDuration(r)}." : "");
        Log.Refused(logger, context.TraceIdentifier, client);
        if (GrpcTrailersOnly.IsGrpc(context.Request))
        {
            var trailers = new List<KeyValuePair<string, string>> { new(GrpcErrors.CodeTrailer, ApiError.RateLimitExceededCode) };
            if (retryAfter is { } pushback)
            {
                trailers.Add(new(GrpcErrors.RetryPushbackTrailer, ((long)Math.Ceiling(pushback.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture)));
            }

            await GrpcTrailersOnly.WriteAsync(context, StatusCode.ResourceExhausted, message, trailers).ConfigureAwait(false);
            return;
        }

        await ApiErrorWriter.WriteAsync(context, ApiError.RequestsRateLimited(message, retryAfter)).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Request {RequestId} refused: requests-per-minute limit of {Client}.")]
        public static partial void Refused(ILogger logger, string requestId, string client);
    }
}
