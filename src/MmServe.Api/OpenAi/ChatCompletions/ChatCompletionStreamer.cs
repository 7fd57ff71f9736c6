using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.Sse;
using MmServe.Serving.Generation;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tools;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>
/// Streams one completion in OpenAI's chunk shape: a first chunk with the role, one chunk per engine delta that
/// has something to say, a last chunk with the finish_reason, an optional usage chunk (choices: []), then
/// [DONE]. An error after the stream has begun is sent as a data: event with the error object, then the stream
/// closes. Generated media go out as soon as each item is ready (images in delta.images, pcm16 audio in
/// delta.audio.data) and at the latest before the finish chunk; with audio output the text streams as
/// delta.audio.transcript instead of delta.content, as OpenAI does.
/// </summary>
internal sealed partial class ChatCompletionStreamer(
    CompletionIdentity identity,
    ChatAnswerOptions answer,
    bool returnLogprobs,
    LogprobsMapper logprobs,
    ChatAudioAssembler? audio,
    ILogger logger)
{
    private const string ChunkObject = "chat.completion.chunk";

    /// <summary>Set when the request has tools: text goes through it, and calls stream as delta.tool_calls.</summary>
    public ToolCallReader? ToolCalls { get; init; }

    public async Task StreamAsync(HttpContext context, GenerationSession session, CancellationToken ct)
    {
        using var writeSpan = session.StartWriteSpan("sse");
        await using var sse = new SseWriter(context.Response);
        await sse.StartAsync(ct).ConfigureAwait(false);
        try
        {
            await WriteChoiceAsync(sse, new ChunkChoice(0, new ChunkDelta("assistant", ""), null, null), ct).ConfigureAwait(false);
            await using var events = session.ReadEventsAsync(ct).GetAsyncEnumerator(ct);
            while (true)
            {
                // Events already waiting complete synchronously; flush only before waiting, so under load a stream
                // sends one socket write per burst of tokens instead of one per token.
                var next = events.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    await sse.FlushAsync(ct).ConfigureAwait(false);
                }

                if (!await next.ConfigureAwait(false))
                {
                    return;
                }

                switch (events.Current)
                {
                    case TextDelta delta when ToolCalls is not null:
                        BufferToolEvents(sse, ToolCalls.Push(delta.Text));
                        break;
                    case TextDelta delta when HasContent(delta):
                        var choice = new ChunkChoice(0, TextDelta(delta.Text), logprobs.Map(delta.Logprobs), null)
                        {
                            TokenIds = answer.ReturnTokenIds ? delta.TokenIds : null,
                        };
                        sse.BufferEvent(Chunk([choice], null), OpenAiJsonContext.Wire.ChatCompletionChunk);
                        break;
                    case MediaReady ready:
                        BufferMedia(sse, ready.Media);
                        break;
                    case SessionFinished { Reason: FinishReason.Cancelled }:
                        return;
                    case SessionFinished finished:
                        await FinishAsync(sse, finished, ct).ConfigureAwait(false);
                        return;
                    case SessionFailed failed:
                        await WriteErrorAsync(sse, ApiError.From(failed.Error), ct).ConfigureAwait(false);
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client disconnected; the engine request was cancelled through the same token.
            Log.Disconnected(logger, context.TraceIdentifier);
        }
        catch (Exception e)
        {
            Log.StreamFailed(logger, context.TraceIdentifier, e);
            await WriteErrorAsync(sse, ApiError.Internal(context.TraceIdentifier), ct).ConfigureAwait(false);
        }
    }

    private bool HasContent(TextDelta delta) =>
        delta.Text.Length > 0 || (delta.TokenIds.Count > 0 && (returnLogprobs || answer.ReturnTokenIds));

    /// <summary>Text goes to delta.content, or to delta.audio.transcript when the reply is audio.</summary>
    private ChunkDelta TextDelta(string text) => audio is null
        ? new ChunkDelta(null, text)
        : new ChunkDelta(null, null) { Audio = text.Length == 0 ? null : new ChunkAudioDelta(audio.Id) { Transcript = text } };

    /// <summary>An image goes out in delta.images; a clip in delta.audio.data when pcm16 streams clip by clip.</summary>
    private void BufferMedia(SseWriter sse, GeneratedMedia media)
    {
        if (media.IsImage)
        {
            BufferDelta(sse, new ChunkDelta(null, null) { Images = [ChatImageOutput.FromDataUrl(media.ToPngDataUrl())] });
            return;
        }

        if (audio?.Add(media) is { } data)
        {
            BufferDelta(sse, new ChunkDelta(null, null) { Audio = new ChunkAudioDelta(audio.Id) { Data = data, ExpiresAt = audio.ExpiresAt } });
        }
    }

    /// <summary>Content as delta.content; a call as its first delta (id, type, name, empty arguments), then its arguments.</summary>
    private void BufferToolEvents(SseWriter sse, IEnumerable<ToolStreamEvent> events)
    {
        foreach (var item in events)
        {
            BufferDelta(sse, item switch
            {
                ToolStreamEvent.Content content => TextDelta(content.Text),
                ToolStreamEvent.CallStarted start => new ChunkDelta(null, null)
                {
                    ToolCalls = [new ToolCallDelta(start.Index) { Id = start.Id, Type = "function", Function = new FunctionCallDelta { Name = start.Name } }],
                },
                ToolStreamEvent.CallArguments arguments => new ChunkDelta(null, null)
                {
                    ToolCalls = [new ToolCallDelta(arguments.Index) { Function = new FunctionCallDelta { Arguments = arguments.Text } }],
                },
                _ => throw new InvalidOperationException($"Unknown tool stream event {item.GetType().Name}."),
            });
        }
    }

    private void BufferDelta(SseWriter sse, ChunkDelta delta) =>
        sse.BufferEvent(Chunk([new ChunkChoice(0, delta, null, null)], null), OpenAiJsonContext.Wire.ChatCompletionChunk);

    private async Task FinishAsync(SseWriter sse, SessionFinished finished, CancellationToken ct)
    {
        if (audio is { StreamsClips: false })
        {
            // A WAV file needs every clip; it goes out whole, just before the finish chunk.
            BufferDelta(sse, new ChunkDelta(null, null) { Audio = new ChunkAudioDelta(audio.Id) { Data = audio.WholeRecording(), ExpiresAt = audio.ExpiresAt } });
        }

        if (ToolCalls is not null)
        {
            BufferToolEvents(sse, ToolCalls.Finish());
        }

        var last = new ChunkChoice(0, new ChunkDelta(null, null), null, FinishReasonNames.Of(finished.Reason, ToolCalls?.CallCount ?? 0));
        await WriteChoiceAsync(sse, last, ct).ConfigureAwait(false);
        if (answer.IncludeUsage)
        {
            var usage = new Usage(finished.PromptTokens, finished.CompletionTokens, finished.TotalTokens);
            await sse.WriteEventAsync(Chunk([], usage), OpenAiJsonContext.Wire.ChatCompletionChunk, ct).ConfigureAwait(false);
        }

        await sse.WriteDoneAsync(ct).ConfigureAwait(false);
    }

    private ValueTask WriteChoiceAsync(SseWriter sse, ChunkChoice choice, CancellationToken ct) =>
        sse.WriteEventAsync(Chunk([choice], null), OpenAiJsonContext.Wire.ChatCompletionChunk, ct);

    private ChatCompletionChunk Chunk(IReadOnlyList<ChunkChoice> choices, Usage? usage) =>
        new(identity.Id, ChunkObject, identity.Created, identity.Model, identity.SystemFingerprint, choices, usage);

    private static async Task WriteErrorAsync(SseWriter sse, ApiError error, CancellationToken ct)
    {
        try
        {
            await sse.WriteEventAsync(error.ToResponse(), OpenAiJsonContext.Wire.OpenAiErrorResponse, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client is gone as well; nothing left to tell it.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Debug, "Stream {RequestId} ended because the client disconnected.")]
        public static partial void Disconnected(ILogger logger, string requestId);

        [LoggerMessage(11, LogLevel.Error, "Stream {RequestId} failed after it had started.")]
        public static partial void StreamFailed(ILogger logger, string requestId, Exception exception);
    }
}
