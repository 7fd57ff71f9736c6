using System.Text.Json.Serialization;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>A non-streaming chat completion ("object": "chat.completion").</summary>
internal sealed record ChatCompletion(
    string Id,
    string Object,
    long Created,
    string Model,
    IReadOnlyList<ChatChoice> Choices,
    Usage Usage,
    string SystemFingerprint)
{
    /// <summary>Extension, only with return_token_ids: the prompt as the model saw it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? PromptTokenIds { get; init; }
}

internal sealed record ChatChoice(int Index, AssistantMessage Message, ChoiceLogprobs? Logprobs, string? FinishReason)
{
    /// <summary>Extension, only with return_token_ids: the generated token ids.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? TokenIds { get; init; }
}

internal sealed record AssistantMessage(string Role, string? Content, string? Refusal)
{
    /// <summary>Generated audio (modalities with "audio"), as OpenAI; the text is then its transcript.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChatAudioOutput? Audio { get; init; }

    /// <summary>The calls the model made (finish_reason "tool_calls"); absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ToolCallOutput>? ToolCalls { get; init; }

    /// <summary>Extension (modalities with "image"): generated images as PNG data URLs, in OpenRouter's shape.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ChatImageOutput>? Images { get; init; }
}

/// <summary>message.audio: the audio file or PCM (base64) and its transcript.</summary>
internal sealed record ChatAudioOutput(string Id, string Data, long ExpiresAt, string Transcript);

/// <summary>One generated image: {"type":"image_url","image_url":{"url":"data:image/png;base64,..."}}.</summary>
internal sealed record ChatImageOutput(string Type, ChatImageUrl ImageUrl)
{
    public static ChatImageOutput FromDataUrl(string url) => new("image_url", new ChatImageUrl(url));
}

internal sealed record ChatImageUrl(string Url);

internal sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary>choice.logprobs: <c>{"content":[...],"refusal":null}</c>.</summary>
internal sealed record ChoiceLogprobs(IReadOnlyList<TokenLogprobEntry> Content, IReadOnlyList<TokenLogprobEntry>? Refusal);

internal sealed record TokenLogprobEntry(string Token, float Logprob, IReadOnlyList<int>? Bytes, IReadOnlyList<TopLogprobEntry> TopLogprobs);

internal sealed record TopLogprobEntry(string Token, float Logprob, IReadOnlyList<int>? Bytes);

/// <summary>message.tool_calls[i]: {"id","type":"function","function":{"name","arguments"}}.</summary>
internal sealed record ToolCallOutput(string Id, string Type, FunctionCallOutput Function)
{
    public static ToolCallOutput From(MmServe.Serving.Tools.ParsedToolCall call) => new(call.Id, "function", new FunctionCallOutput(call.Name, call.Arguments));
}

/// <summary>The function's name and its arguments as a JSON string.</summary>
internal sealed record FunctionCallOutput(string Name, string Arguments);
