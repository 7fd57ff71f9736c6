using MmServe.Api.Errors;
using MmServe.Serving.Capabilities;
using MmServe.Serving.Errors;
using MmServe.Serving.Models;

namespace MmServe.Api.OpenAi.Models;

/// <summary>GET /v1/models and GET /v1/models/{id}: each served model's <see cref="ModelDescription"/> in OpenAI's shape.</summary>
internal static class ModelsEndpoint
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/models").WithTags("Models");
        group.MapGet("/", (ModelCatalog catalog) =>
                TypedResults.Json(new ModelList("list", [.. catalog.All.Select(Card)]), OpenAiJsonContext.Wire.ModelList))
            .WithName("ListModels")
            .WithSummary("Lists the served models: the chat models, then the Florence-2 models (chat too), then the speech models (/v1/audio/transcriptions and translations).")
            .Produces<ModelList>();
        group.MapGet("/{**id}", (string id, ModelCatalog catalog) => catalog.Find(id) is { } model
                ? (IResult)TypedResults.Json(Card(model), OpenAiJsonContext.Wire.ModelCard)
                : ApiError.From(ServingError.ModelNotFound(id)).ToResult())
            .WithName("RetrieveModel")
            .WithSummary("Describes a served model; any other id is 404 model_not_found.")
            .Produces<ModelCard>()
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static ModelCard Card(CatalogEntry model) => Card(model.Id, model.Created, model.Capabilities);

    private static ModelCard Card(string id, long created, MmServe.Serving.Capabilities.ModelCapabilities described) =>
        new(
            id,
            "model",
            created,
            ModelDescription.Owner,
            new ModelCapabilities(
                described.InputModalities,
                described.OutputModalities,
                described.MaxContext,
                described.UnavailableInputs.Count == 0 ? null : described.UnavailableInputs)
            {
                Voices = described.Voices,
                ImageSizes = described.ImageSizes,
                Workers = described.Workers.Count == 0
                    ? null
                    : [.. described.Workers.Select(w => new WorkerCard(w.Device, w.ExecutionProvider, w.FallbackReason, w.KvCache))],
                Onnxruntime = described.OnnxRuntime is { } ort ? new OnnxRuntimeCard(ort.Flavor, ort.Version) : null,
            });
}
