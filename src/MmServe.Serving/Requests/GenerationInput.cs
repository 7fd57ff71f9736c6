using MmServe.Serving.Media;
using MmServe.Serving.Structured;
using MmServe.Serving.Tools;

namespace MmServe.Serving.Requests;

/// <summary>
/// A generation request as an edge read it off the wire, before any rule is applied: REST and gRPC fill the same
/// record, and <see cref="GenerationRules"/> validates it once for both. Null means the client did not send the
/// field. Params name fields the way the client's API names them, for error messages.
/// </summary>
public sealed record GenerationInput
{
    /// <summary>The model the client asked for.</summary>
    public string? Model { get; init; }

    /// <summary>The conversation, in order.</summary>
    public IReadOnlyList<InputMessage>? Messages { get; init; }

    /// <summary>How many choices; only 1 is served.</summary>
    public int? N { get; init; }

    public SamplingInput Sampling { get; init; } = new();

    /// <summary>Output modalities by name ("text", "image", "audio"); null: text only.</summary>
    public IReadOnlyList<string?>? OutputModalities { get; init; }

    /// <summary>Voice and container of audio output; <see cref="AudioOutputInput.ServerDefault"/> where the API has no such field.</summary>
    public AudioOutputInput? Audio { get; init; }

    /// <summary>Structured output: the format every generated token must follow; null: free text.</summary>
    public ResponseFormatInput? ResponseFormat { get; init; }

    /// <summary>Functions the model may call; null: none.</summary>
    public IReadOnlyList<ToolInput>? Tools { get; init; }

    /// <summary>none / auto / required / a named function; null: auto with tools.</summary>
    public ToolChoiceInput? ToolChoice { get; init; }

    /// <summary>Whether a forced answer may hold several calls; null: true.</summary>
    public bool? ParallelToolCalls { get; init; }

    /// <summary>How this edge names the fields the rules report.</summary>
    public RequestFieldNames Fields { get; init; } = RequestFieldNames.OpenAi("max_tokens");
}

/// <summary>One message. <paramref name="Content"/> null: absent; an empty list: present without parts.</summary>
/// <param name="Param">The message's field, e.g. "messages[2]".</param>
public sealed record InputMessage(string? Role, IReadOnlyList<InputPart>? Content, string Param)
{
    /// <summary>An assistant message's tool calls; null: none.</summary>
    public IReadOnlyList<InputToolCall>? ToolCalls { get; init; }

    /// <summary>A tool message: the call it answers.</summary>
    public string? ToolCallId { get; init; }
}

/// <summary>One content part.</summary>
/// <param name="Param">The part's field, e.g. "messages[0].content[1]".</param>
public abstract record InputPart(string Param)
{
    public sealed record Text(string Value, string Param) : InputPart(Param);

    /// <summary>A media item, not read yet.</summary>
    /// <param name="Modality">"image", "audio" or "video".</param>
    /// <param name="Kind">How the source is carried.</param>
    /// <param name="Source">A data: URL, base64, an http(s) URL, or for raw bytes the declared MIME type.</param>
    /// <param name="Format">The declared audio container ("wav", "flac"...), or null.</param>
    /// <param name="SourceParam">The field holding the source, named in errors about the bytes.</param>
    /// <param name="FormatParam">The field declaring <paramref name="Format"/>.</param>
    public sealed record Media(
        string Modality, MediaSourceKind Kind, string Source, string? Format, string SourceParam, string? FormatParam, string Param) : InputPart(Param)
    {
        /// <summary>The encoded item when <see cref="Kind"/> is <see cref="MediaSourceKind.Bytes"/>.</summary>
        public ReadOnlyMemory<byte> Bytes { get; init; }
    }
}

/// <summary>Sampling fields as sent; unset ones take OpenAI's defaults.</summary>
public sealed record SamplingInput
{
    public double? Temperature { get; init; }
    public double? TopP { get; init; }

    /// <summary>-1 is vLLM's "disabled", the same as 0.</summary>
    public int? TopK { get; init; }

    public long? Seed { get; init; }
    public double? PresencePenalty { get; init; }
    public double? FrequencyPenalty { get; init; }
    public int? MaxTokens { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public bool IgnoreEos { get; init; }
    public bool Logprobs { get; init; }
    public int? TopLogprobs { get; init; }
}

/// <summary>Audio output settings (chat "audio": {"voice", "format"}).</summary>
public sealed record AudioOutputInput(string? Voice, string? Format)
{
    /// <summary>An API without audio settings: the model's first voice, WAV.</summary>
    public static AudioOutputInput ServerDefault { get; } = new(null, null);
}
