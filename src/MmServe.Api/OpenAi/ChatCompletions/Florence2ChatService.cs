using MmServe.Api.Errors;
using MmServe.Serving.Errors;
using MmServe.Serving.Florence2;
using MmServe.Serving.Requests;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// /v1/chat/completions for a model of "Florence2Models": one user message with an image and a task text
/// (<see cref="Florence2ChatInput"/>) → <see cref="Florence2Model"/> → one chat.completion. Not streamed yet
/// ("stream": true is a 400). usage.prompt_tokens counts the encoder's positions: image features + prompt tokens.
/// </summary>
internal sealed class Florence2ChatService(TimeProvider time)
{
    /// <summary>Largest accepted image (decoded data: URL payload), as for chat models' images.</summary>
    private const long MaxImageBytes = 20 * 1024 * 1024;

    public async Task<(ChatCompletion? Completion, ServingError? Error)> CompleteAsync(
        string modelId, Florence2Model model, GenerationInput input, ChatAnswerOptions answer, string requestId, CancellationToken ct)
    {
        if (answer.Stream)
        {
            return (null, ServingError.Invalid("Streaming is not supported for Florence-2 models yet; send \"stream\": false.", "stream", "unsupported_value"));
        }

        if (input.Sampling.Temperature is < 0 or > 2)
        {
            return (null, ServingError.Invalid("temperature must be between 0 and 2.", "temperature", "invalid_value"));
        }

        if (input.Sampling.MaxTokens is <= 0)
        {
            return (null, ServingError.Invalid("max_tokens must be at least 1.", input.Fields.MaxTokens, "invalid_value"));
        }

        var (request, invalid) = Florence2ChatInput.From(input, MaxImageBytes);
        if (invalid is not null)
        {
            return (null, invalid);
        }

        var (result, error) = await model.GenerateAsync(
            request!.Image, request.Text, (float)(input.Sampling.Temperature ?? 1.0), input.Sampling.MaxTokens ?? int.MaxValue,
            requestId, request.ImageParam, ct).ConfigureAwait(false);
        if (error is not null)
        {
            return (null, error);
        }

        var choice = new ChatChoice(0, new AssistantMessage("assistant", result!.Text, null), null, ChatCompletionService.ToWire(result.Finish))
        {
            TokenIds = answer.ReturnTokenIds ? result.TokenIds : null,
        };
        var completion = new ChatCompletion(
            CompletionIdentity.NewId(), "chat.completion", time.GetUtcNow().ToUnixTimeSeconds(), modelId, [choice],
            new Usage(result.EncoderTokens, result.TokenIds.Count, result.EncoderTokens + result.TokenIds.Count), "fp_" + modelId)
        {
            PromptTokenIds = answer.ReturnTokenIds ? result.PromptIds : null,
        };
        return (completion, null);
    }
}
