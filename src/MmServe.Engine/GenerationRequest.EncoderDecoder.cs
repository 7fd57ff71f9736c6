using MmServe.Abstractions;

namespace MmServe.Engine;

public sealed partial record GenerationRequest
{
    /// <summary>
    /// Encoder-decoder models: the request's encoder output (required there, refused by a decoder-only model).
    /// <see cref="PromptTokenIds"/> are then the decoder's forced start tokens (Whisper:
    /// <c>&lt;|startoftranscript|&gt; &lt;|lang|&gt; &lt;|task|&gt; &lt;|notimestamps|&gt;</c>).
    /// </summary>
    public EncoderOutput? Encoder { get; init; }
}
