using System.Buffers.Text;
using MmServe.Media;
using MmServe.Media.Tensors;

namespace MmServe.Serving.Media;

/// <summary>input_tensor.data: bare base64 of a .npy file; the decoded size is checked before anything is allocated.</summary>
public static class TensorBase64
{
    public static MediaResult<ReadOnlyMemory<byte>> Decode(string modality, string base64, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(base64);
        if (!Base64.IsValid(base64.AsSpan(), out int length))
        {
            return new MediaError(NpyArray.InvalidTensor, $"The {modality} tensor data is not valid base64.");
        }

        if (length > maxBytes)
        {
            return new MediaError(MediaErrorCodes.PayloadTooLarge, $"The {modality} tensor is {length} bytes; this model's largest {modality} tensor is {maxBytes} bytes.");
        }

        var bytes = new byte[length];
        return Convert.TryFromBase64String(base64, bytes, out int written)
            ? (ReadOnlyMemory<byte>)bytes.AsMemory(0, written)
            : new MediaError(NpyArray.InvalidTensor, $"The {modality} tensor data is not valid base64.");
    }
}
