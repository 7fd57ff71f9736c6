using System.Text.Json;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// The body of POST /v1/chat/completions, as OpenAI defines it, plus a few extensions (top_k, ignore_eos,
/// return_token_ids). Fields whose JSON type varies (content, stop) are kept as raw JSON and checked by
/// <see cref="ChatRequestParser"/>, which can then name the offending field precisely.
/// </summary>
internal sealed class ChatCompletionRequest
{
    /// <summary>Must equal the served model's id.</summary>
    public string? Model { get; set; }

    public List<ChatMessage>? Messages { get; set; }

    /// <summary>Stream the answer as server-sent events.</summary>
    public bool? Stream { get; set; }

    public StreamOptions? StreamOptions { get; set; }

    /// <summary>Deprecated by OpenAI in favour of max_completion_tokens; both are accepted.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Most tokens to generate; wins over max_tokens. Unset: until a stop condition or the context is full.</summary>
    public int? MaxCompletionTokens { get; set; }

    /// <summary>0..2; 0 is greedy decoding.</summary>
    public double? Temperature { get; set; }

    /// <summary>(0, 1].</summary>
    public double? TopP { get; set; }

    /// <summary>Extension: keep the K most likely tokens; 0 or -1 disables.</summary>
    public int? TopK { get; set; }

    public long? Seed { get; set; }

    public double? PresencePenalty { get; set; }

    public double? FrequencyPenalty { get; set; }

    /// <summary>A string or up to four strings.</summary>
    public JsonElement? Stop { get; set; }

    /// <summary>Only 1 is supported.</summary>
    public int? N { get; set; }

    public bool? Logprobs { get; set; }

    public int? TopLogprobs { get; set; }

    /// <summary>Accepted and ignored.</summary>
    public string? User { get; set; }

    /// <summary>Extension (as in vLLM): keep generating past end-of-sequence tokens.</summary>
    public bool? IgnoreEos { get; set; }

    /// <summary>
    /// Extension (as in vLLM): also return the prompt's token ids (prompt_token_ids) and each choice's generated
    /// token ids (choices[].token_ids), including a final end-of-sequence token.
    /// </summary>
    public bool? ReturnTokenIds { get; set; }

    /// <summary>
    /// Output types: "text" (always produced), "audio" (with "audio" set, as OpenAI), and the MmServe extension
    /// "image" (generated images in message.images, OpenRouter's shape). Only what the model can produce.
    /// </summary>
    public List<string>? Modalities { get; set; }

    /// <summary>Voice and format of audio output; required when modalities contains "audio".</summary>
    public ChatAudioParams? Audio { get; set; }

    /// <summary>
    /// Structured output, enforced token by token: {"type":"json_object"} (any JSON object) or
    /// {"type":"json_schema","json_schema":{"name","schema","strict"}} (a value valid under the schema's supported
    /// subset; see docs/structured-outputs.md). {"type":"text"} is the default.
    /// </summary>
    public ResponseFormat? ResponseFormat { get; set; }

    /// <summary>Functions the model may call ({"type":"function","function":{"name","description","parameters"}}).</summary>
    public List<ChatToolDefinition?>? Tools { get; set; }

    /// <summary>"none", "auto" (default with tools), "required", or {"type":"function","function":{"name"}}; the last two are enforced.</summary>
    public JsonElement? ToolChoice { get; set; }

    /// <summary>Whether a forced answer may hold several calls (default true).</summary>
    public bool? ParallelToolCalls { get; set; }
}

/// <summary>One entry of "tools".</summary>
internal sealed class ChatToolDefinition
{
    /// <summary>Only "function".</summary>
    public string? Type { get; set; }

    public ChatFunctionDefinition? Function { get; set; }
}

/// <summary>tools[].function.</summary>
internal sealed class ChatFunctionDefinition
{
    /// <summary>1-64 of a-z, A-Z, 0-9, '_' and '-'.</summary>
    public string? Name { get; set; }

    public string? Description { get; set; }

    /// <summary>The arguments' JSON Schema; forced calls are decoded under it (same subset as response_format).</summary>
    public JsonElement? Parameters { get; set; }

    /// <summary>Accepted; forced calls follow the schema whether or not it is set.</summary>
    public bool? Strict { get; set; }
}

/// <summary>A call in an assistant message (and in answers): {"id","type":"function","function":{"name","arguments"}}.</summary>
internal sealed class ChatMessageToolCall
{
    public string? Id { get; set; }

    public string? Type { get; set; }

    public ChatMessageFunctionCall? Function { get; set; }
}

internal sealed class ChatMessageFunctionCall
{
    public string? Name { get; set; }

    /// <summary>The arguments as a JSON string.</summary>
    public string? Arguments { get; set; }
}

/// <summary>One message: role plus content (a string or an array of parts).</summary>
internal sealed class ChatMessage
{
    /// <summary>system, developer, user, assistant or tool.</summary>
    public string? Role { get; set; }

    /// <summary>A string, or parts: {"type":"text","text"} and {"type":"image_url","image_url":{"url","detail"}}.</summary>
    public JsonElement? Content { get; set; }

    /// <summary>Accepted and ignored.</summary>
    public string? Name { get; set; }

    /// <summary>An assistant message's tool calls.</summary>
    public List<ChatMessageToolCall?>? ToolCalls { get; set; }

    /// <summary>A tool message: the id of the call it answers.</summary>
    public string? ToolCallId { get; set; }
}

internal sealed class StreamOptions
{
    /// <summary>Send one more chunk with the usage (and no choices) before [DONE].</summary>
    public bool? IncludeUsage { get; set; }
}

/// <summary>"audio": the voice and format of audio output (with "audio" in modalities).</summary>
internal sealed class ChatAudioParams
{
    /// <summary>One of the model's voices (see GET /v1/models/{id}: capabilities.voices).</summary>
    public string? Voice { get; set; }

    /// <summary>wav (at the model's sample rate) or pcm16 (16-bit little-endian mono at 24 kHz, as OpenAI's).</summary>
    public string? Format { get; set; }
}

/// <summary>response_format: "text", "json_object" or "json_schema" (with json_schema).</summary>
internal sealed class ResponseFormat
{
    public string? Type { get; set; }

    public JsonSchemaFormat? JsonSchema { get; set; }
}

/// <summary>response_format.json_schema.</summary>
internal sealed class JsonSchemaFormat
{
    /// <summary>Required: 1-64 of a-z, A-Z, 0-9, '_' and '-'.</summary>
    public string? Name { get; set; }

    /// <summary>Accepted; not shown to the model.</summary>
    public string? Description { get; set; }

    /// <summary>The JSON Schema of the answer. Absent: any JSON value.</summary>
    public JsonElement? Schema { get; set; }

    /// <summary>Accepted; outputs follow the schema whether or not it is set.</summary>
    public bool? Strict { get; set; }
}
