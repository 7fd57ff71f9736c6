namespace MmServe.Api.Swagger;

/// <summary>
/// Browser hardening headers. Every response gets X-Content-Type-Options: nosniff (an API answer must never be
/// sniffed into HTML). The Swagger UI pages, the one part of the server a browser renders, also get a
/// Content-Security-Policy that lets Swagger UI run from its own files only (its React rendering needs inline
/// styles, its icons are data: images, "Try it out" calls this origin), cannot be framed (clickjacking) and send no
/// Referer. Written when the response starts, so an error page gets them too.
/// </summary>
internal static class SecurityHeaders
{
    public const string SwaggerContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public static WebApplication UseMmServeSecurityHeaders(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var response = context.Response;
            bool swagger = context.Request.Path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase);
            response.OnStarting(() =>
            {
                var headers = response.Headers;
                headers.XContentTypeOptions = "nosniff";
                if (swagger)
                {
                    headers.ContentSecurityPolicy = SwaggerContentSecurityPolicy;
                    headers.XFrameOptions = "DENY";
                    headers["Referrer-Policy"] = "no-referrer";
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }
}
