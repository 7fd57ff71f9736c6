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
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);
