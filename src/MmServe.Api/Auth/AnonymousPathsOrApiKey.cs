using Microsoft.AspNetCore.Authorization;

namespace MmServe.Api.Auth;

/// <summary>
/// The fallback authorization policy's one requirement (and its own handler): a request passes with a valid key, or
/// without one on a path that stays open (probes, metrics, Swagger UI, grpc.health.v1). As the fallback policy it
/// also covers requests that match no endpoint, so an unknown URL without a key is a 401, not a 404 that maps the API.
/// </summary>
internal sealed class AnonymousPathsOrApiKey(IReadOnlyList<string> anonymousPaths) : AuthorizationHandler<AnonymousPathsOrApiKey>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AnonymousPathsOrApiKey requirement)
    {
        if (context.User.Identity?.IsAuthenticated == true
            || (context.Resource is HttpContext http && IsAnonymous(http.Request.Path)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    public bool IsAnonymous(PathString path) =>
        anonymousPaths.Any(open => path.StartsWithSegments(open.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
}
