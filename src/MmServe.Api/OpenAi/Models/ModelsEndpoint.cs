using MmServe.Api.Errors;
using MmServe.Api.Serving;
using MmServe.Api.Serving.Generation;
using MmServe.Api.Serving.Media;

namespace MmServe.Api.OpenAi.Models;

/// <summary>GET /v1/models and GET /v1/models/{id}.</summary>
internal static class ModelsEndpoint
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/models").WithTags("Models");
        group.MapGet("/", (ServedModel model, MediaEmbedder media, IMediaGenerator generator) =>
                TypedResults.Json(new ModelList("list", [Card(model, media, generator)]), OpenAiJsonContext.Wire.ModelList))
            .WithName("ListModels")
            .WithSummary("Lists the served model.")
            .Produces<ModelList>();
        group.MapGet("/{**id}", (string id, ServedModel model, MediaEmbedder media, IMediaGenerator generator) => id == model.Id
                ? (IResult)TypedResults.Json(Card(model, media, generator), OpenAiJsonContext.Wire.ModelCard)
                : ApiError.ModelNotFound(id).ToResult())
            .WithName("RetrieveModel")
            .WithSummary("Describes the served model; any other id is 404 model_not_found.")
            .Produces<ModelCard>()
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static ModelCard Card(ServedModel model, MediaEmbedder media, IMediaGenerator generator) => new(
        model.Id,
        "model",
        model.Created,
        "mmserve",
        new ModelCapabilities(
            ["text", .. media.ServedModalities],
            ["text", .. generator.Modalities.Keys.Order(StringComparer.Ordinal)],
            model.MaxContext,
            media.Policy.Unavailable.Count == 0 ? null : media.Policy.Unavailable)
        {
            Voices = generator.Modalities.TryGetValue(ServedModel.AudioModality, out var audio) ? audio.Voices : null,
            ImageSizes = generator.Modalities.TryGetValue(ServedModel.ImageModality, out var image) && image.Size is { } size ? [size] : null,
        });
}
