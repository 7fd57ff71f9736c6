using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.Extensions.Options;
using MmServe.Api.Errors;
using MmServe.Api.Serving;
using MmServe.Api.Serving.Generation;
using MmServe.Api.Serving.Media;
using MmServe.Grpc.V1;
using ModelProto = MmServe.Grpc.V1.Model;

namespace MmServe.Api.Grpc;

/// <summary>mmserve.v1.ModelService: the served model and what it takes, as GET /v1/models reports it, plus the limits a gRPC client needs.</summary>
internal sealed class ModelGrpcService(ServedModel model, MediaEmbedder media, IMediaGenerator generator, IOptions<GrpcServiceOptions> service) : ModelService.ModelServiceBase
{
    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListModelsResponse { Models = { Describe() } });

    public override Task<ModelProto> GetModel(GetModelRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Id))
        {
            throw GrpcErrors.ToException(ApiError.Missing("id"));
        }

        return request.Id == model.Id
            ? Task.FromResult(Describe())
            : throw GrpcErrors.ToException(ApiError.ModelNotFound(request.Id) with { Param = "id" });
    }

    private ModelProto Describe()
    {
        var capabilities = new ModelCapabilities
        {
            MaxContext = model.MaxContext,
            MaxRequestBytes = service.Value.MaxReceiveMessageSize ?? 0,
        };
        capabilities.InputModalities.Add(Modality.Text);
        capabilities.InputModalities.AddRange(media.ServedModalities.Select(ModalityNames.ToProto));
        capabilities.OutputModalities.Add(Modality.Text);
        capabilities.OutputModalities.AddRange(generator.Modalities.Keys.Order(StringComparer.Ordinal).Select(ModalityNames.ToProto));
        foreach (var (modality, reason) in media.Policy.Unavailable.OrderBy(u => u.Key, StringComparer.Ordinal))
        {
            capabilities.UnavailableInputs.Add(new UnavailableInput { Modality = ModalityNames.ToProto(modality), Reason = reason });
        }

        foreach (var modality in media.ServedModalities)
        {
            capabilities.MediaLimits.Add(new MediaLimit
            {
                Modality = ModalityNames.ToProto(modality),
                MaxItemsPerRequest = media.Policy.MaxItems(modality),
                MaxBytes = media.Modality(modality).Preprocessor.MaxEncodedBytes,
            });
        }

        capabilities.AcceptedMimeTypes.AddRange(MediaMimeTypes.All.Where(Accepted));
        return new ModelProto { Id = model.Id, Created = model.Created, OwnedBy = "mmserve", Capabilities = capabilities };
    }

    private bool Accepted(string mimeType)
    {
        var (modality, audioFormat) = MediaMimeTypes.Resolve(mimeType);
        return media.Policy.Accepts(modality) && (audioFormat is null || media.Policy.AudioFormats.Contains(audioFormat));
    }
}
