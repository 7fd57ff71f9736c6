using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.Extensions.Options;
using MmServe.Grpc.V1;
using MmServe.Serving.Capabilities;
using MediaLimit = MmServe.Grpc.V1.MediaLimit;
using OnnxRuntimeBuild = MmServe.Grpc.V1.OnnxRuntimeBuild;
using WorkerPlacement = MmServe.Grpc.V1.WorkerPlacement;
using ModelCapabilities = MmServe.Grpc.V1.ModelCapabilities;
using MmServe.Serving.Errors;
using MmServe.Serving.Models;
using ModelProto = MmServe.Grpc.V1.Model;

namespace MmServe.Api.Grpc;

/// <summary>mmserve.v1.ModelService: each served model's <see cref="ModelDescription"/> (as GET /v1/models reports it), plus the limits a gRPC client needs.</summary>
internal sealed class ModelGrpcService(ModelCatalog catalog, IOptions<GrpcServiceOptions> service) : ModelService.ModelServiceBase
{
    /// <summary>The chat models, the Florence-2 models, then the speech models (served over REST's /v1/audio/* only), as GET /v1/models lists them.</summary>
    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListModelsResponse { Models = { catalog.All.Select(m => Describe(m.Id, m.Created, m.Capabilities)) } });

    public override Task<ModelProto> GetModel(GetModelRequest request, ServerCallContext context) =>
        string.IsNullOrEmpty(request.Id) ? throw GrpcErrors.ToException(ServingError.Missing("id"))
        : catalog.Find(request.Id) is { } model ? Task.FromResult(Describe(model.Id, model.Created, model.Capabilities))
        : throw GrpcErrors.ToException(ServingError.ModelNotFound(request.Id, "id"));

    private ModelProto Describe(string id, long created, MmServe.Serving.Capabilities.ModelCapabilities described)
    {
        var capabilities = new ModelCapabilities
        {
            MaxContext = described.MaxContext,
            MaxRequestBytes = service.Value.MaxReceiveMessageSize ?? 0,
        };
        capabilities.InputModalities.AddRange(described.InputModalities.Select(ModalityNames.ToProto));
        capabilities.OutputModalities.AddRange(described.OutputModalities.Select(ModalityNames.ToProto));
        foreach (var (modality, reason) in described.UnavailableInputs)
        {
            capabilities.UnavailableInputs.Add(new UnavailableInput { Modality = ModalityNames.ToProto(modality), Reason = reason });
        }

        foreach (var limit in described.MediaLimits)
        {
            capabilities.MediaLimits.Add(new MediaLimit
            {
                Modality = ModalityNames.ToProto(limit.Modality),
                MaxItemsPerRequest = limit.MaxItemsPerRequest,
                MaxBytes = limit.MaxBytes,
            });
        }

        capabilities.AcceptedMimeTypes.AddRange(described.AcceptedMimeTypes);
        foreach (var worker in described.Workers)
        {
            capabilities.Workers.Add(new WorkerPlacement
            {
                Device = worker.Device,
                ExecutionProvider = worker.ExecutionProvider,
                FallbackReason = worker.FallbackReason ?? string.Empty,
                KvCache = worker.KvCache,
            });
        }

        if (described.OnnxRuntime is { } ort)
        {
            capabilities.Onnxruntime = new OnnxRuntimeBuild { Flavor = ort.Flavor, Version = ort.Version };
        }

        return new ModelProto { Id = id, Created = created, OwnedBy = ModelDescription.Owner, Capabilities = capabilities };
    }
}
