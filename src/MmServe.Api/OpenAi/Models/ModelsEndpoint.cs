using MmServe.Api.Errors;
using MmServe.Api.Serving;
using MmServe.Api.Serving.Media;

namespace MmServe.Api.OpenAi.Models;

/// <summary>GET /v1/models and GET /v1/models/{id}.</summary>
internal static class ModelsEndpoint
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/models").WithTags("Models");
        group.MapGet("/", (ServedModel model, MediaEmbedder media) =>
                TypedResults.Json(new ModelList("list", [Card(model, media)]), OpenAiJsonContext.Wire.ModelList))
            .WithName("ListModels")
            .WithSummary("Lists the served model.")
            .Produces<ModelList>();
        group.MapGet("/{**id}", (string id, ServedModel model, MediaEmbedder media) => id == model.Id
                ? (IResult)TypedResults.Json(Card(model, media), OpenAiJsonContext.Wire.ModelCard)
                : ApiError.ModelNotFound(id).ToResult())
            .WithName("RetrieveModel")
            .WithSummary("Describes the served model; any other id is 404 model_not_found.")
            .Produces<ModelCard>()
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static ModelCard Card(ServedModel model, MediaEmbedder media) => new(
        model.Id,
        "model",
        model.Created,
        "mmserve",
        new ModelCapabilities(
            ["text", .. media.ServedModalities],
            model.OutputModalities,
            model.MaxContext,
            media.Policy.Unavailable.Count == 0 ? null : media.Policy.Unavailable));
}
