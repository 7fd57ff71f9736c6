using MmServe.Api.Errors;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>POST /v1/chat/completions.</summary>
internal static class ChatCompletionsEndpoint
{
    public const string Route = "/v1/chat/completions";

    public static IEndpointRouteBuilder MapChatCompletions(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Route, (HttpContext context, ChatCompletionService service) => service.HandleAsync(context))
            .WithName("CreateChatCompletion")
            .WithTags("Chat")
            .WithSummary("Creates a model response for the given chat conversation (OpenAI-compatible).")
            .WithDescription(
                "Text and image_url parts (base64 data: URLs only) are served; input_audio and video_url parts are refused "
                + "with 400 for now. With \"stream\": true the answer is sent as server-sent events (chat.completion.chunk "
                + "objects, then data: [DONE]). n must be 1 (several choices: send several requests). "
                + "Extensions: top_k, ignore_eos, return_token_ids (prompt_token_ids and choices[].token_ids).")
            .Accepts<ChatCompletionRequest>("application/json")
            .Produces<ChatCompletion>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status413PayloadTooLarge)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status429TooManyRequests)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status500InternalServerError)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }
}
