using System.Security.Claims;
using System.Text.Encodings.Web;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using MmServe.Api.Errors;
using MmServe.Api.Grpc;

namespace MmServe.Api.Auth;

/// <summary>
/// The "ApiKey" authentication scheme, for REST and gRPC alike (both arrive through the same pipeline): a known key
/// signs the request in under the key's name; the challenge answers 401 with OpenAI's error body and
/// WWW-Authenticate, or, for a gRPC call, UNAUTHENTICATED. Nothing past this point — parsing, media, the engine —
/// runs for a request the challenge answered.
/// </summary>
internal sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyStore store) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";

    /// <summary>RFC 6750's challenge; error="invalid_token" tells a client its key was read and refused.</summary>
    private const string Challenge = "Bearer realm=\"mmserve\"";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ApiKeyCredential.Read(Request) is not { } presented)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (store.Find(presented) is not { } name)
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is not one of this server's."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        bool wrongKey = (await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false)).Failure is not null;
        var error = wrongKey ? ApiError.InvalidApiKey() : ApiError.MissingApiKey();
        Log.Refused(Logger, Context.TraceIdentifier, error.Code!, Context.Connection.RemoteIpAddress?.ToString() ?? "?");
        if (GrpcTrailersOnly.IsGrpc(Request))
        {
            await GrpcTrailersOnly.WriteAsync(Context, StatusCode.Unauthenticated, error.Message, [new(GrpcErrors.CodeTrailer, error.Code!)]).ConfigureAwait(false);
            return;
        }

        Response.Headers.WWWAuthenticate = wrongKey ? $"{Challenge}, error=\"invalid_token\"" : Challenge;
        await ApiErrorWriter.WriteAsync(Context, error).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Request {RequestId} refused: {Code} (from {RemoteAddress}).")]
        public static partial void Refused(ILogger logger, string requestId, string code, string remoteAddress);
    }
}
