using MmServe.Abstractions;
using MmServe.Runtime.Onnx.Chat;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>A validated chat request in engine terms; no media has been decoded yet.</summary>
/// <param name="Conversation">The messages, images as <see cref="ChatPart.Media"/> numbered in order of appearance.</param>
/// <param name="Images">Image i's data: URL and the request field it came from (for error messages).</param>
/// <param name="Sampling">Validated sampling parameters.</param>
/// <param name="Stream">Answer with server-sent events.</param>
/// <param name="IncludeUsage">stream_options.include_usage: add a usage chunk before [DONE].</param>
/// <param name="ReturnTokenIds">Extension: return prompt and completion token ids.</param>
/// <param name="MaxTokensParam">"max_completion_tokens" or "max_tokens", whichever the client used.</param>
internal sealed record ParsedChatRequest(
    IReadOnlyList<ChatTurn> Conversation,
    IReadOnlyList<ImageReference> Images,
    SamplingParams Sampling,
    bool Stream,
    bool IncludeUsage,
    bool ReturnTokenIds,
    string MaxTokensParam);

/// <param name="DataUrl">The image as a data: URL (not yet decoded).</param>
/// <param name="Param">Where it was in the request, e.g. "messages[1].content[0].image_url.url".</param>
internal readonly record struct ImageReference(string DataUrl, string Param);
