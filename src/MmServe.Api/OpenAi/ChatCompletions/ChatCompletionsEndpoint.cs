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
                "Parts: text, image_url (data: URLs; http(s) when the operator enables remote media), input_audio (base64 "
                + "wav/mp3, more formats with ffmpeg), audio_url and video_url (vLLM's extensions). With \"stream\": true the "
                + "answer is sent as server-sent events (chat.completion.chunk objects, then data: [DONE]). n must be 1. "
                + "Generated media: modalities [\"text\", \"audio\"] with audio {voice, format: wav|pcm16} returns message.audio "
                + "(streamed as delta.audio), as OpenAI; modalities with \"image\" (extension) returns message.images, PNG data "
                + "URLs (streamed as delta.images). Extensions: top_k, ignore_eos, return_token_ids (prompt_token_ids and "
                + "choices[].token_ids).")
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
