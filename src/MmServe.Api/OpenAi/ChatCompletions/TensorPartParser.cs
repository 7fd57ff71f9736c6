using System.Text.Json;
using MmServe.Api.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// MmServe's extension part {"type":"input_tensor","input_tensor":{"modality":"imu","data": base64 .npy}} (docs/api.md):
/// a raw tensor for a model input modality whose preprocessing kind is "tensor" (PandaGPT / ImageBind's depth, IMU...).
/// Only the JSON shape is checked here; whether the model takes the modality is MessageRules' business, the array's
/// dtype / shape / values the modality's preprocessor's.
/// </summary>
internal static class TensorPartParser
{
    public static (InputPart?, ApiError?) Parse(JsonElement part, string param)
    {
        var tensorParam = $"{param}.input_tensor";
        if (!part.TryGetProperty("input_tensor", out var tensor))
        {
            return (null, ApiError.Missing(tensorParam));
        }

        if (tensor.ValueKind != JsonValueKind.Object)
        {
            return (null, ApiError.WrongType(tensorParam));
        }

        if (!tensor.TryGetProperty("modality", out var modality))
        {
            return (null, ApiError.Missing($"{tensorParam}.modality"));
        }

        if (modality.ValueKind != JsonValueKind.String || modality.GetString() is not { Length: > 0 } name)
        {
            return (null, ApiError.WrongType($"{tensorParam}.modality"));
        }

        if (!tensor.TryGetProperty("data", out var data))
        {
            return (null, ApiError.Missing($"{tensorParam}.data"));
        }

        if (data.ValueKind != JsonValueKind.String)
        {
            return (null, ApiError.WrongType($"{tensorParam}.data"));
        }

        return (new InputPart.Media(name, MediaSourceKind.Base64, data.GetString()!, null, $"{tensorParam}.data", null, param), null);
    }
}
