using MmServe.Serving;
using MmServe.Grpc.V1;

namespace MmServe.Api.Grpc;

/// <summary>The proto's Modality enum and the lower-case names the manifest and the REST API use.</summary>
internal static class ModalityNames
{
    public static string Of(Modality modality) => modality switch
    {
        Modality.Text => "text",
        Modality.Image => ServedModel.ImageModality,
        Modality.Audio => ServedModel.AudioModality,
        Modality.Video => ServedModel.VideoModality,
        _ => "unspecified",
    };

    public static Modality ToProto(string modality) => modality switch
    {
        "text" => Modality.Text,
        ServedModel.ImageModality => Modality.Image,
        ServedModel.AudioModality => Modality.Audio,
        ServedModel.VideoModality => Modality.Video,
        _ => Modality.Unspecified,
    };
}
