using MmServe.Abstractions;

namespace MmServe.Engine.Core;

/// <summary>An encoder output is required by an encoder-decoder executor, refused by a decoder-only one, and must have its width.</summary>
internal static class EncoderInputValidator
{
    public static EngineError? Validate(GenerationRequest request, ExecutorInfo model) => (request.Encoder, model.EncoderWidth) switch
    {
        (null, null) => null,
        (not null, null) => EngineError.InvalidParameter("encoder", "This model has no encoder; the request must not carry an encoder output."),
        (null, not null) => EngineError.InvalidParameter("encoder", "This encoder-decoder model needs the request's encoder output."),
        ({ } encoder, { } width) when encoder.Width != width =>
            EngineError.InvalidParameter("encoder", $"The encoder output is {encoder.Width} wide; this model's decoder expects {width}."),
        _ => null,
    };
}
