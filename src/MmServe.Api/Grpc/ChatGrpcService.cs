using System.Text;
using Grpc.Core;
using MmServe.Api.RateLimits;
using MmServe.Grpc.V1;
using MmServe.Serving;
using MmServe.Serving.Errors;
using MmServe.Serving.Models;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tools;
using FinishReason = MmServe.Abstractions.FinishReason;

namespace MmServe.Api.Grpc;

/// <summary>
/// mmserve.v1.ChatService, the gRPC edge: shape the request (<see cref="GrpcChatRequestMapper"/>), let the shared
/// rules validate it and the <see cref="GenerationService"/> run it, then translate the session's events into
/// chunks or one response. The call's CancellationToken (client cancel, deadline, shutdown) cancels the session,
/// so the engine frees the request's slot within one step.
/// </summary>
internal sealed partial class ChatGrpcService(
    ModelRegistry models,
    ChatChunkMapper chunks,
    TimeProvider time,
    TokenBudgets budgets,
    ILogger<ChatGrpcService> logger) : ChatService.ChatServiceBase
{
    public override async Task StreamChat(ChatRequest request, IServerStreamWriter<ChatChunk> responseStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var (requestId, model, session, validated) = await StartAsync(request, context).ConfigureAwait(false);
        using var writeSpan = session.StartWriteSpan("grpc");
        var toolCalls = validated.Tools is { ReadsCalls: true } tools ? new ToolCallReader(tools.Format, streamArguments: tools.Forced is not null) : null;
        await responseStream.WriteAsync(new ChatChunk { RequestId = requestId, Started = Started(model, request, session) }, ct).ConfigureAwait(false);
        await foreach (var item in session.ReadEventsAsync(ct).ConfigureAwait(false))
        {
            if (toolCalls is not null && item is TextDelta or SessionFinished { Reason: FinishReason.Stop or FinishReason.Length })
            {
                await WriteToolEventsAsync(responseStream, requestId, item, toolCalls, ct).ConfigureAwait(false);
            }

            var chunk = item switch
            {
                TextDelta when toolCalls is not null => null,
                TextDelta delta => new ChatChunk { RequestId = requestId, Delta = chunks.ToDelta(delta) },
                MediaReady ready => new ChatChunk { RequestId = requestId, Media = ChatChunkMapper.ToProto(ready.Media, ready.Index) },
                SessionFinished { Reason: FinishReason.Cancelled } => throw Cancelled(context),
                SessionFinished { Reason: FinishReason.Abort } => throw Refuse(requestId, ServingError.ShuttingDown()),
                SessionFinished finished => new ChatChunk { RequestId = requestId, Finished = ChatChunkMapper.ToFinished(finished, toolCalls?.CallCount ?? 0) },
                SessionFailed failed => throw Refuse(requestId, failed.Error),
                _ => null,
            };
            if (chunk is not null)
            {
                await responseStream.WriteAsync(chunk, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// With tools, text goes through the call reader: a Delta keeps every token id and logprob but only the text
    /// that is not part of a call, and calls follow as ToolCallDelta chunks (the end of the output resolves what
    /// was held back).
    /// </summary>
    private async Task WriteToolEventsAsync(
        IServerStreamWriter<ChatChunk> stream, string requestId, SessionEvent item, ToolCallReader reader, CancellationToken ct)
    {
        var events = item is TextDelta delta ? reader.Push(delta.Text).ToList() : reader.Finish().ToList();
        var content = string.Concat(events.OfType<ToolStreamEvent.Content>().Select(c => c.Text));
        if (item is TextDelta textDelta)
        {
            var message = chunks.ToDelta(textDelta);
            message.Text = content;
            await stream.WriteAsync(new ChatChunk { RequestId = requestId, Delta = message }, ct).ConfigureAwait(false);
        }
        else if (content.Length > 0)
        {
            await stream.WriteAsync(new ChatChunk { RequestId = requestId, Delta = new Delta { Text = content } }, ct).ConfigureAwait(false);
        }

        foreach (var call in events.Select(GrpcToolMapper.ToProto).OfType<ToolCallDelta>())
        {
            await stream.WriteAsync(new ChatChunk { RequestId = requestId, ToolCall = call }, ct).ConfigureAwait(false);
        }
    }

    public override async Task<ChatResponse> Chat(ChatRequest request, ServerCallContext context)
    {
        var (requestId, model, session, validated) = await StartAsync(request, context).ConfigureAwait(false);
        var (result, failed) = await session.CompleteAsync(context.CancellationToken).ConfigureAwait(false);
        if (failed is not null)
        {
            throw Refuse(requestId, failed);
        }

        if (result!.Finished.Reason == FinishReason.Cancelled)
        {
            throw Cancelled(context);
        }

        // gRPC has no "abort" finish reason: UNAVAILABLE tells the client to retry on another replica.
        if (result.Finished.Reason == FinishReason.Abort)
        {
            throw Refuse(requestId, ServingError.ShuttingDown());
        }

        var started = Started(model, request, session);
        var calls = validated.Tools is { ReadsCalls: true } tools ? ToolCallReader.Parse(tools.Format, result.Text) : null;
        var response = new ChatResponse
        {
            RequestId = requestId,
            Model = started.Model,
            Created = started.Created,
            SystemFingerprint = started.SystemFingerprint,
            Text = calls is { ToolCalls.Count: > 0 } ? calls.Content ?? "" : result.Text,
            FinishReason = ChatChunkMapper.ToProto(result.Finished.Reason, calls?.ToolCalls.Count ?? 0),
            Usage = ChatChunkMapper.ToUsage(result.Finished),
        };
        response.PromptTokenIds.AddRange(started.PromptTokenIds);
        response.TokenIds.AddRange(result.TokenIds);
        response.Logprobs.AddRange(result.Logprobs?.Select(ChatChunkMapper.ToLogprob) ?? []);
        response.Media.AddRange(result.Media.Select((media, i) => ChatChunkMapper.ToProto(media, i)));
        response.ToolCalls.AddRange(calls?.ToolCalls.Select(GrpcToolMapper.ToProto) ?? []);
        return response;
    }

    /// <summary>Everything before the first output: shape, rules, prompt, media, admission. Throws the mapped status on refusal.</summary>
    private async Task<(string RequestId, ServedModel Model, GenerationSession Session, ValidatedRequest Request)> StartAsync(ChatRequest request, ServerCallContext context)
    {
        var requestId = string.IsNullOrEmpty(request.RequestId) || request.RequestId.Length > GrpcChatRequestMapper.MaxRequestIdLength
            ? context.GetHttpContext().TraceIdentifier
            : request.RequestId;
        var (input, shapeError) = GrpcChatRequestMapper.Map(request);
        if (shapeError is not null)
        {
            throw Refuse(requestId, shapeError);
        }

        var (model, unknown) = models.Resolve(input!.Model);
        if (unknown is not null)
        {
            throw Refuse(requestId, unknown);
        }

        var (validated, invalid) = model!.Validate(input);
        if (invalid is not null)
        {
            throw Refuse(requestId, invalid);
        }

        var (session, refused) = await model.Generation.StartAsync(validated!, requestId, budgets.For(context.GetHttpContext()), context.CancellationToken).ConfigureAwait(false);
        return refused is null ? (requestId, model.Model, session!, validated!) : throw Refuse(requestId, refused);
    }

    private ChatStarted Started(ServedModel model, ChatRequest request, GenerationSession session)
    {
        var started = new ChatStarted
        {
            Model = model.Id,
            Created = time.GetUtcNow().ToUnixTimeSeconds(),
            SystemFingerprint = model.SystemFingerprint,
        };
        if (request.ReturnPromptTokenIds)
        {
            started.PromptTokenIds.AddRange(session.PromptTokenIds);
        }

        return started;
    }

    private RpcException Refuse(string requestId, ServingError error)
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

    /// <summary>The session saw the call's token cancelled (client cancel or deadline); nobody reads this status.</summary>
    private static RpcException Cancelled(ServerCallContext context) => context.Deadline <= DateTime.UtcNow
        ? new RpcException(new Status(StatusCode.DeadlineExceeded, "The deadline expired before the generation finished."))
        : new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "gRPC chat {RequestId} refused: {Status} {Code} (param {Param}).")]
        public static partial void Refused(ILogger logger, string requestId, StatusCode status, string? code, string? param);

        [LoggerMessage(2, LogLevel.Warning, "gRPC chat {RequestId} failed: {Status} {Code}.")]
        public static partial void Failed(ILogger logger, string requestId, StatusCode status, string? code);
    }
}
