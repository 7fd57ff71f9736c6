namespace MmServe.Api.Errors;

/// <summary>OpenAI's error body: <c>{"error":{"message","type","param","code"}}</c> (all four keys always present).</summary>
internal sealed record OpenAiErrorResponse(OpenAiError Error);

/// <param name="Message">Client-safe text; never an exception message.</param>
/// <param name="Type">"invalid_request_error", "rate_limit_error" (queue full), "requests" / "tokens" (rate limits, as OpenAI) or "server_error".</param>
/// <param name="Param">The offending request field ("temperature", "messages[0].content[1]"), or null.</param>
/// <param name="Code">A stable machine code ("model_not_found", "context_length_exceeded"), or null.</param>
internal sealed record OpenAiError(string Message, string Type, string? Param, string? Code);
