using System.Text.Json.Serialization;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>One server-sent event of a streamed completion ("object": "chat.completion.chunk").</summary>
internal sealed record ChatCompletionChunk(
    string Id,
    string Object,
    long Created,
    string Model,
    string SystemFingerprint,
    IReadOnlyList<ChunkChoice> Choices,
    Usage? Usage);

internal sealed record ChunkChoice(int Index, ChunkDelta Delta, ChoiceLogprobs? Logprobs, string? FinishReason)
{
    /// <summary>Extension, only with return_token_ids: the token ids this chunk adds.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? TokenIds { get; init; }
}

/// <summary>The delta: role on the first chunk only, content when there is new text, {} on the last chunk.</summary>
internal sealed record ChunkDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content)
{
    /// <summary>Audio output: transcript deltas, then the audio data, as OpenAI streams them.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChunkAudioDelta? Audio { get; init; }

    /// <summary>Tool calls as OpenAI streams them: index, id, type and function.name first, then function.arguments pieces.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ToolCallDelta>? ToolCalls { get; init; }

    /// <summary>Extension: images finished since the previous chunk (same objects as message.images).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ChatImageOutput>? Images { get; init; }
}

/// <summary>delta.audio: the id on every chunk; a transcript piece, or base64 audio data with its expiry.</summary>
internal sealed record ChunkAudioDelta(string Id)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Transcript { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Data { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ExpiresAt { get; init; }
}

/// <summary>delta.tool_calls[i]: the call's index always; id, type and name in its first delta; arguments pieces after.</summary>
internal sealed record ToolCallDelta(int Index)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Id { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Type { get; init; }

    public FunctionCallDelta Function { get; init; } = new();
}

internal sealed record FunctionCallDelta
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    public string Arguments { get; init; } = "";
}
