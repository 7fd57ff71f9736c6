using System.Text;
using Grpc.Core;
using MmServe.Api.Errors;
using MmServe.Api.Serving;
using MmServe.Api.Serving.Generation;
using MmServe.Api.Serving.Media;
using MmServe.Engine;
using MmServe.Grpc.V1;
using MmServe.Model.Chat;

namespace MmServe.Api.Grpc;

/// <summary>
/// mmserve.v1.ChatService: the REST chat flow over gRPC — validate (<see cref="GrpcChatRequestMapper"/>), build
/// the prompt and embed the media (<see cref="PromptPreparer"/>), submit to the engine, then stream or collect
/// its events. The call's CancellationToken (client cancel, deadline, shutdown) goes to the media work, the
/// engine submission and the event reads, so the engine frees the request's slot within one step.
/// </summary>
internal sealed partial class ChatGrpcService(
    ServedModel model,
    IGenerationEngine engine,
    MediaEmbedder mediaEmbedder,
    IMediaGenerator mediaGenerator,
    PromptPreparer preparer,
    ChatChunkMapper chunks,
    TimeProvider time,
    ILogger<ChatGrpcService> logger) : ChatService.ChatServiceBase
{
    public override async Task StreamChat(ChatRequest request, IServerStreamWriter<ChatChunk> responseStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var call = await StartAsync(request, context).ConfigureAwait(false);
        await responseStream.WriteAsync(new ChatChunk { RequestId = call.RequestId, Started = call.Started }, ct).ConfigureAwait(false);
        await foreach (var item in call.Handle.Events.ReadAllAsync(ct).ConfigureAwait(false))
        {
            switch (item)
            {
                case TokenDeltaEvent delta:
                    call.Outputs?.Observe(delta);
                    await responseStream.WriteAsync(new ChatChunk { RequestId = call.RequestId, Delta = chunks.ToDelta(delta) }, ct).ConfigureAwait(false);
                    if (call.Outputs is { } ready)
                    {
                        // Each image or clip goes out as soon as it exists, while the LLM keeps decoding.
                        await WriteMediaAsync(responseStream, call, ready.TakeReady(), ct).ConfigureAwait(false);
                    }

                    break;
                case FinishedEvent { Reason: MmServe.Abstractions.FinishReason.Cancelled }:
                    throw Cancelled(context);
                case FinishedEvent finished:
                    if (call.Outputs is { } rest)
                    {
                        await WriteMediaAsync(responseStream, call, await rest.TakeAllAsync().ConfigureAwait(false), ct).ConfigureAwait(false);
                    }

                    await responseStream.WriteAsync(
                        new ChatChunk { RequestId = call.RequestId, Finished = ChatChunkMapper.ToFinished(finished) }, ct).ConfigureAwait(false);
                    break;
                case ErrorEvent error:
                    throw Refuse(call.RequestId, ApiError.FromEngine(error.Error, call.RequestId));
            }
        }
    }

    public override async Task<ChatResponse> Chat(ChatRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var call = await StartAsync(request, context).ConfigureAwait(false);
        var response = new ChatResponse
        {
            RequestId = call.RequestId,
            Model = call.Started.Model,
            Created = call.Started.Created,
            SystemFingerprint = call.Started.SystemFingerprint,
        };
        response.PromptTokenIds.AddRange(call.Started.PromptTokenIds);
        var text = new StringBuilder();
        await foreach (var item in call.Handle.Events.ReadAllAsync(ct).ConfigureAwait(false))
        {
            switch (item)
            {
                case TokenDeltaEvent delta:
                    call.Outputs?.Observe(delta);
                    text.Append(delta.Text);
                    response.TokenIds.AddRange(delta.TokenIds);
                    response.Logprobs.AddRange(delta.Logprobs?.Select(chunks.ToLogprob) ?? []);
                    break;
                case FinishedEvent { Reason: MmServe.Abstractions.FinishReason.Cancelled }:
                    throw Cancelled(context);
                case FinishedEvent finished:
                    if (call.Outputs is { } outputs)
                    {
                        foreach (var media in await outputs.TakeAllAsync().ConfigureAwait(false))
                        {
                            response.Media.Add(ChatChunkMapper.ToProto(media, call.MediaCount++));
                        }
                    }

                    response.FinishReason = ChatChunkMapper.ToProto(finished.Reason);
                    response.Usage = ChatChunkMapper.ToUsage(finished);
                    break;
                case ErrorEvent error:
                    throw Refuse(call.RequestId, ApiError.FromEngine(error.Error, call.RequestId));
            }
        }

        response.Text = text.ToString();
        return response;
    }

    /// <summary>Everything before the first output: validation, prompt, media, admission. Throws the mapped status on refusal.</summary>
    private async Task<StartedCall> StartAsync(ChatRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var requestId = string.IsNullOrEmpty(request.RequestId) ? context.GetHttpContext().TraceIdentifier : request.RequestId;
        var (mapped, mapError) = GrpcChatRequestMapper.Map(request, model.Id, mediaEmbedder.Policy, mediaGenerator.Modalities);
        if (mapError is not null)
        {
            throw Refuse(requestId, mapError);
        }

        var (prompt, media, prepareError) = await preparer.PrepareAsync(
            mapped!.Conversation, mapped.Media, mapped.Sampling.MaxTokens, "sampling.max_tokens", ct).ConfigureAwait(false);
        if (prepareError is not null)
        {
            throw Refuse(requestId, prepareError);
        }

        var outputs = mapped.Outputs.Count == 0
            ? null
            : new GeneratedOutputs(mapped.Outputs, mediaGenerator, prompt!.Ids.Length, engine.ModelInfo.HiddenSize, ct);
        var generation = new GenerationRequest(requestId, prompt!.Ids, mapped.Sampling) { Media = media, HiddenStateTokenIds = outputs?.SignalTokenIds };
        var handle = await engine.SubmitAsync(generation, ct).ConfigureAwait(false);
        if (handle.Rejection is { } rejection)
        {
            throw Refuse(requestId, ApiError.FromEngine(rejection, requestId));
        }

        return new StartedCall(requestId, handle, Started(request, prompt), outputs);
    }

    private static async Task WriteMediaAsync(IServerStreamWriter<ChatChunk> stream, StartedCall call, IReadOnlyList<Serving.Generation.GeneratedMedia> ready, CancellationToken ct)
    {
        foreach (var media in ready)
        {
            await stream.WriteAsync(new ChatChunk { RequestId = call.RequestId, Media = ChatChunkMapper.ToProto(media, call.MediaCount++) }, ct).ConfigureAwait(false);
        }
    }

    private ChatStarted Started(ChatRequest request, TokenizedPrompt prompt)
    {
        var started = new ChatStarted
        {
            Model = model.Id,
            Created = time.GetUtcNow().ToUnixTimeSeconds(),
            SystemFingerprint = model.SystemFingerprint,
        };
        if (request.ReturnPromptTokenIds)
        {
            started.PromptTokenIds.AddRange(prompt.Ids);
        }

        return started;
    }

    private RpcException Refuse(string requestId, ApiError error)
    {
        var exception = GrpcErrors.ToException(error);
        if (exception.StatusCode == StatusCode.Internal)
        {
            Log.Failed(logger, requestId, exception.StatusCode, error.Code);
        }
        else
        {
            Log.Refused(logger, requestId, exception.StatusCode, error.Code, error.Param);
        }

        return exception;
    }

    /// <summary>The engine saw the call's token cancelled (client cancel or deadline); nobody reads this status.</summary>
    private static RpcException Cancelled(ServerCallContext context) => context.Deadline <= DateTime.UtcNow
        ? new RpcException(new Status(StatusCode.DeadlineExceeded, "The deadline expired before the generation finished."))
        : new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));

    private sealed record StartedCall(string RequestId, GenerationHandle Handle, ChatStarted Started, GeneratedOutputs? Outputs)
    {
        /// <summary>Generated items sent so far (their index).</summary>
        public int MediaCount { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "gRPC chat {RequestId} refused: {Status} {Code} (param {Param}).")]
        public static partial void Refused(ILogger logger, string requestId, StatusCode status, string? code, string? param);

        [LoggerMessage(2, LogLevel.Warning, "gRPC chat {RequestId} failed: {Status} {Code}.")]
        public static partial void Failed(ILogger logger, string requestId, StatusCode status, string? code);
    }
}
