using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.Extensions.Options;
using MmServe.Grpc.V1;
using MmServe.Serving.Capabilities;
using MediaLimit = MmServe.Grpc.V1.MediaLimit;
using OnnxRuntimeBuild = MmServe.Grpc.V1.OnnxRuntimeBuild;
using WorkerPlacement = MmServe.Grpc.V1.WorkerPlacement;
using ModelCapabilities = MmServe.Grpc.V1.ModelCapabilities;
using MmServe.Serving.Models;
using ModelProto = MmServe.Grpc.V1.Model;

namespace MmServe.Api.Grpc;

/// <summary>mmserve.v1.ModelService: each served model's <see cref="ModelDescription"/> (as GET /v1/models reports it), plus the limits a gRPC client needs.</summary>
internal sealed class ModelGrpcService(ModelRegistry models, IOptions<GrpcServiceOptions> service) : ModelService.ModelServiceBase
{
    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListModelsResponse { Models = { models.All.Select(m => Describe(m.Description)) } });

    public override Task<ModelProto> GetModel(GetModelRequest request, ServerCallContext context)
    {
        var (model, error) = models.Find(request.Id, "id");
        return error is null ? Task.FromResult(Describe(model!.Description)) : throw GrpcErrors.ToException(error);
    }

    private ModelProto Describe(ModelDescription model)
    {
        var described = model.Capabilities;
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

        return new ModelProto { Id = model.Id, Created = model.Created, OwnedBy = ModelDescription.Owner, Capabilities = capabilities };
    }
}
