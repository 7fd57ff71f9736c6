using Microsoft.Extensions.Options;
using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.Serving;
using MmServe.Api.Serving.Generation;
using MmServe.Api.Serving.Media;
using MmServe.Engine;
using MmServe.Model.Chat;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// Runs one chat completion request: read and validate the body, build the prompt, embed the media, submit to
/// the engine, then answer as one JSON object or as a stream. Cancelling the request (client disconnect) cancels
/// the engine request, which frees its model slot within one step.
/// </summary>
internal sealed partial class ChatCompletionService(
    ServedModel model,
    IGenerationEngine engine,
    MediaEmbedder mediaEmbedder,
    PromptPreparer preparer,
    IMediaGenerator mediaGenerator,
    LogprobsMapper logprobs,
    IOptions<LimitsOptions> limits,
    IOptions<GenerationOptions> generation,
    TimeProvider time,
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

        var (request, parseError) = ChatRequestParser.Parse(body!, model.Id, mediaEmbedder.Policy, mediaGenerator.Modalities);
        if (parseError is not null)
        {
            return Refuse(context, parseError);
        }

        var (prompt, media, prepareError) = await preparer.PrepareAsync(
            request!.Conversation, request.Media, request.Sampling.MaxTokens, request.MaxTokensParam, ct).ConfigureAwait(false);
        if (prepareError is not null)
        {
            return Refuse(context, prepareError);
        }

        var outputs = request.Outputs.Any
            ? new GeneratedOutputs(request.Outputs.Modalities, mediaGenerator, prompt!.Ids.Length, engine.ModelInfo.HiddenSize, ct)
            : null;
        var generationRequest = new GenerationRequest(context.TraceIdentifier, prompt!.Ids, request.Sampling)
        {
            Media = media,
            HiddenStateTokenIds = outputs?.SignalTokenIds,
        };
        var handle = await engine.SubmitAsync(generationRequest, ct).ConfigureAwait(false);
        if (handle.Rejection is { } rejection)
        {
            return Refuse(context, ApiError.FromEngine(rejection, context.TraceIdentifier));
        }

        var identity = new CompletionIdentity(
            CompletionIdentity.NewId(), time.GetUtcNow().ToUnixTimeSeconds(), model.Id, model.SystemFingerprint);
        var audio = CreateAudioAssembler(request, identity);
        if (request.Stream)
        {
            await new ChatCompletionStreamer(identity, request, logprobs, outputs, audio, logger)
                .StreamAsync(context, handle, ct).ConfigureAwait(false);
            return TypedResults.Empty;
        }

        return await CompleteAsync(context, identity, request, prompt, handle, outputs, audio, ct).ConfigureAwait(false);
    }

    private ChatAudioAssembler? CreateAudioAssembler(ParsedChatRequest request, CompletionIdentity identity)
    {
        if (request.Outputs.Audio is not { } format)
        {
            return null;
        }

        var modality = mediaGenerator.Modalities[ServedModel.AudioModality];
        return new ChatAudioAssembler(format, modality.SampleRate, identity.Created + generation.Value.AudioExpirySeconds);
    }

    private async Task<IResult> CompleteAsync(
        HttpContext context,
        CompletionIdentity identity,
        ParsedChatRequest request,
        TokenizedPrompt prompt,
        GenerationHandle handle,
        GeneratedOutputs? outputs,
        ChatAudioAssembler? audio,
        CancellationToken ct)
    {
        var text = new System.Text.StringBuilder();
        var tokens = new List<int>();
        var entries = request.Sampling.Logprobs ? new List<TokenLogprobEntry>() : null;
        FinishedEvent? finished = null;
        await foreach (var item in handle.Events.ReadAllAsync(ct).ConfigureAwait(false))
        {
            switch (item)
            {
                case TokenDeltaEvent delta:
                    outputs?.Observe(delta);
                    text.Append(delta.Text);
                    tokens.AddRange(delta.TokenIds);
                    entries?.AddRange(delta.Logprobs?.Select(logprobs.Map) ?? []);
                    break;
                case FinishedEvent done:
                    finished = done;
                    break;
                case ErrorEvent error:
                    return Refuse(context, ApiError.FromEngine(error.Error, context.TraceIdentifier));
            }
        }

        if (finished is null || finished.Reason == FinishReason.Cancelled)
        {
            // Only a client that went away cancels; nobody reads this.
            return TypedResults.Empty;
        }

        IReadOnlyList<GeneratedMedia> generated = [];
        if (outputs is not null)
        {
            try
            {
                generated = await outputs.TakeAllAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.GenerationFailed(logger, context.TraceIdentifier, e);
                return Refuse(context, ApiError.Internal(context.TraceIdentifier));
            }
        }

        var choice = new ChatChoice(
            0,
            BuildMessage(text.ToString(), request.Outputs, generated, audio),
            entries is null ? null : new ChoiceLogprobs(entries, null),
            ToWire(finished.Reason))
        {
            TokenIds = request.ReturnTokenIds ? tokens : null,
        };
        var completion = new ChatCompletion(
            identity.Id,
            "chat.completion",
            identity.Created,
            identity.Model,
            [choice],
            new Usage(finished.PromptTokens, finished.CompletionTokens, finished.PromptTokens + finished.CompletionTokens),
            identity.SystemFingerprint)
        {
            PromptTokenIds = request.ReturnTokenIds ? prompt.Ids : null,
        };
        return TypedResults.Json(completion, OpenAiJsonContext.Wire.ChatCompletion);
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
    public static string ToWire(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";

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

        [LoggerMessage(3, LogLevel.Error, "Chat request {RequestId}: generating its media failed.")]
        public static partial void GenerationFailed(ILogger logger, string requestId, Exception exception);
    }
}
