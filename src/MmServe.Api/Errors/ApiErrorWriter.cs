using System.Globalization;
using System.Text.Json;
using MmServe.Api.OpenAi;

namespace MmServe.Api.Errors;

/// <summary>Writes an <see cref="ApiError"/> as the HTTP response (status, Retry-After, OpenAI error JSON).</summary>
internal static class ApiErrorWriter
{
    public static Task WriteAsync(HttpContext context, ApiError error)
    {
        var response = context.Response;
        response.StatusCode = error.StatusCode;
        if (error.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(response.Body, error.ToResponse(), OpenAiJsonContext.Wire.OpenAiErrorResponse, context.RequestAborted);
    }

    /// <summary>The error as a minimal-API result.</summary>
    public static IResult ToResult(this ApiError error) => new ApiErrorResult(error);

    private sealed class ApiErrorResult(ApiError error) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => error.StatusCode;

        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, error);
    }
}
