using Microsoft.Extensions.Options;
using MmServe.Api.Errors;
using MmServe.Api.RateLimits;
using MmServe.Serving;
using MmServe.Serving.Florence2;
using MmServe.Serving.Generation;
using MmServe.Serving.Models;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tools;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// POST /v1/chat/completions, the REST edge: read the body, shape it into a <see cref="GenerationInput"/>, let the
/// shared rules validate it and the <see cref="GenerationService"/> run it, then answer as one JSON object or as
/// a stream. Cancelling the request (client disconnect) cancels the session, which frees its model slot within
/// one step.
/// </summary>
internal sealed partial class ChatCompletionService(
    ModelRegistry models,
    LogprobsMapper logprobs,
    IOptions<LimitsOptions> limits,
    IOptions<GenerationOptions> generationOptions,
    TimeProvider time,
    TokenBudgets budgets,
    Florence2ModelRegistry florence2Models,
    Florence2ChatService florence2,
    ILogger<ChatCompletionService> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var (body, readError) = await JsonBodyReader.ReadAsync(
            context, OpenAiJsonContext.Wire.ChatCompletionRequest, limits.Value.MaxRequestBodyBytes, ct).ConfigureAwait(false);
        if (readError is not null)
        {
            return Refuse(context, readError);
        }

        var (input, answer, parseError) = ChatRequestParser.Parse(body!);
        if (parseError is not null)
        {
            return Refuse(context, parseError);
        }

        // Florence-2 (encoder-decoder: one image + a task) answers chat under its own ids.
        if (florence2Models.Find(input!.Model) is { } florence2Model)
        {
            var (completion, error) = await florence2.CompleteAsync(input.Model!, florence2Model, input, answer!, context.TraceIdentifier, ct).ConfigureAwait(false);
            return error is not null ? Refuse(context, ApiError.From(error)) : TypedResults.Json(completion!, OpenAiJsonContext.Wire.ChatCompletion);
        }

        var (model, unknown) = models.Resolve(input.Model);
        if (unknown is not null)
        {
            return Refuse(context, ApiError.From(unknown));
        }

        var (request, invalid) = model!.Validate(input);
        if (invalid is not null)
        {
            return Refuse(context, ApiError.From(invalid));
        }

        var (session, refused) = await model.Generation.StartAsync(request!, context.TraceIdentifier, budgets.For(context), ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return Refuse(context, ApiError.From(refused));
        }

        var identity = new CompletionIdentity(
            CompletionIdentity.NewId(), time.GetUtcNow().ToUnixTimeSeconds(), model.Id, model.Model.SystemFingerprint);
        var audio = CreateAudioAssembler(model, request!.Outputs, identity);
        if (answer!.Stream)
        {
            var toolCalls = request.Tools is { ReadsCalls: true } tools ? new ToolCallReader(tools.Format, streamArguments: tools.Forced is not null) : null;
            await new ChatCompletionStreamer(identity, answer, request.Sampling.Logprobs, logprobs, audio, logger) { ToolCalls = toolCalls }
                .StreamAsync(context, session!, ct).ConfigureAwait(false);
            return TypedResults.Empty;
        }

        var (result, failed) = await session!.CompleteAsync(ct).ConfigureAwait(false);
        if (failed is not null)
        {
            return Refuse(context, ApiError.From(failed));
        }

        if (result!.Finished.Reason == Abstractions.FinishReason.Cancelled)
        {
            // Only a client that went away cancels; nobody reads this.
            return TypedResults.Empty;
        }

        return TypedResults.Json(ToCompletion(identity, answer, request, session!, result, audio), OpenAiJsonContext.Wire.ChatCompletion);
    }

    private ChatAudioAssembler? CreateAudioAssembler(ModelInstance model, RequestedOutputs outputs, CompletionIdentity identity)
    {
        if (outputs.Audio is not { } format)
        {
            return null;
        }

        var modality = model.Generator.Modalities[ServedModel.AudioModality];
        return new ChatAudioAssembler(format, modality.SampleRate, identity.Created + generationOptions.Value.AudioExpirySeconds);
    }

    private ChatCompletion ToCompletion(
        CompletionIdentity identity, ChatAnswerOptions answer, ValidatedRequest request, GenerationSession session, GenerationResult result, ChatAudioAssembler? audio)
    {
        var finished = result.Finished;
        var message = BuildMessage(result.Text, request.Outputs, result.Media, audio);
        var calls = request.Tools is { ReadsCalls: true } tools ? ToolCallReader.Parse(tools.Format, result.Text) : null;
        if (calls is { ToolCalls.Count: > 0 })
        {
            message = message with { Content = calls.Content, ToolCalls = [.. calls.ToolCalls.Select(ToolCallOutput.From)] };
        }

        var choice = new ChatChoice(
            0,
            message,
            result.Logprobs is { } entries ? new ChoiceLogprobs([.. entries.Select(logprobs.Map)], null) : null,
            FinishReasonNames.Of(finished.Reason, calls?.ToolCalls.Count ?? 0))
        {
            TokenIds = answer.ReturnTokenIds ? result.TokenIds : null,
        };
        return new ChatCompletion(
            identity.Id,
            "chat.completion",
            identity.Created,
            identity.Model,
            [choice],
            new Usage(finished.PromptTokens, finished.CompletionTokens, finished.TotalTokens),
            identity.SystemFingerprint)
        {
            PromptTokenIds = answer.ReturnTokenIds ? session.PromptTokenIds : null,
        };
    }

    /// <summary>
    /// The assistant message: with audio output the text is its transcript (content null, as OpenAI); with image
    /// output the images are listed in message.images (an empty list when the model drew none).
    /// </summary>
    private static AssistantMessage BuildMessage(string text, RequestedOutputs outputs, IReadOnlyList<GeneratedMedia> generated, ChatAudioAssembler? audio)
    {
        ChatAudioOutput? audioOutput = null;
        if (audio is not null)
        {
            foreach (var clip in generated.Where(m => !m.IsImage))
            {
                audio.Add(clip);
            }

            audioOutput = new ChatAudioOutput(audio.Id, audio.WholeRecording(), audio.ExpiresAt, text);
        }

        var images = outputs.WantsImages
            ? generated.Where(m => m.IsImage).Select(m => ChatImageOutput.FromDataUrl(m.ToPngDataUrl())).ToList()
            : null;
        return new AssistantMessage("assistant", audio is null ? text : null, null) { Audio = audioOutput, Images = images };
    }

    /// <summary>OpenAI's finish_reason for an engine reason.</summary>
    public static string ToWire(Abstractions.FinishReason reason) => FinishReasonNames.Of(reason);

    private IResult Refuse(HttpContext context, ApiError error)
    {
        if (error.StatusCode >= 500)
        {
            Log.Failed(logger, context.TraceIdentifier, error.StatusCode, error.Code);
        }
        else
        {
            Log.Refused(logger, context.TraceIdentifier, error.StatusCode, error.Code, error.Param);
        }

        return error.ToResult();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Chat request {RequestId} refused: {Status} {Code} (param {Param}).")]
        public static partial void Refused(ILogger logger, string requestId, int status, string? code, string? param);

        [LoggerMessage(2, LogLevel.Warning, "Chat request {RequestId} failed: {Status} {Code}.")]
        public static partial void Failed(ILogger logger, string requestId, int status, string? code);
    }
}
