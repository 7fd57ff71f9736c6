using MmServe.Api.Errors;

namespace MmServe.Api.OpenAi.Images;

/// <summary>POST /v1/images/generations.</summary>
internal static class ImagesEndpoint
{
    public const string Route = "/v1/images/generations";

    public static IEndpointRouteBuilder MapImages(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Route, (HttpContext context, ImageGenerationService service) => service.HandleAsync(context))
            .WithName("CreateImage")
            .WithTags("Images")
            .WithSummary("Creates images from a prompt (OpenAI-compatible).")
            .WithDescription(
                "The prompt describes the picture (e.g. \"a red circle\") and is placed into the model's image prompt template. "
                + "Sizes: those listed in GET /v1/models (capabilities.image_sizes) or 'auto'. response_format: b64_json only "
                + "('url' is refused: no image store). Images are generated greedily, so n > 1 repeats the same picture for a "
                + "deterministic model. A prompt the model does not draw is refused with 400 no_image_generated.")
            .Accepts<ImageGenerationRequest>("application/json")
            .Produces<ImageGenerationResponse>(StatusCodes.Status200OK)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status429TooManyRequests)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }
}
