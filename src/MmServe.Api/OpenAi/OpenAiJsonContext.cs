using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using MmServe.Api.Errors;
using MmServe.Api.OpenAi.Audio;
using MmServe.Api.OpenAi.ChatCompletions;
using MmServe.Api.OpenAi.Images;
using MmServe.Api.OpenAi.Models;

namespace MmServe.Api.OpenAi;

/// <summary>Source-generated (de)serializers for everything on the OpenAI wire; snake_case, strict numbers.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(OpenAiErrorResponse))]
[JsonSerializable(typeof(ImageGenerationRequest))]
[JsonSerializable(typeof(ImageGenerationResponse))]
[JsonSerializable(typeof(SpeechRequest))]
[JsonSerializable(typeof(TranscriptionResponse))]
[JsonSerializable(typeof(VerboseTranscriptionResponse))]
internal sealed partial class OpenAiJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Writes text the way OpenAI does ("&lt;|im_end|&gt;", "don't") rather than with HTML-safe escapes
    /// ("\u003C", "\u0027"); responses are JSON, never embedded in HTML.
    /// </summary>
    public static JavaScriptEncoder WireEncoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>The context every endpoint uses.</summary>
    public static OpenAiJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.Strict,
        Encoder = WireEncoder,
    });
}
