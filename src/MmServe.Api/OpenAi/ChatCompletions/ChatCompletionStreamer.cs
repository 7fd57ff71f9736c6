using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.Serving.Generation;
using MmServe.Api.Sse;
using MmServe.Engine;

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
    ParsedChatRequest request,
    LogprobsMapper logprobs,
    GeneratedOutputs? outputs,
    ChatAudioAssembler? audio,
    ILogger logger)
{
    private const string ChunkObject = "chat.completion.chunk";

    public async Task StreamAsync(HttpContext context, GenerationHandle handle, CancellationToken ct)
    {
        await using var sse = new SseWriter(context.Response);
        await sse.StartAsync(ct).ConfigureAwait(false);
        try
        {
            await WriteChoiceAsync(sse, new ChunkChoice(0, new ChunkDelta("assistant", ""), null, null), ct).ConfigureAwait(false);
            // Drain every event already waiting, then flush once: under load a stream sends one socket write per
            // burst of tokens instead of one per token.
            var events = handle.Events;
            while (await events.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (events.TryRead(out var item))
                {
                    switch (item)
                    {
                        case TokenDeltaEvent delta:
                            outputs?.Observe(delta);
                            if (HasContent(delta))
                            {
                                var choice = new ChunkChoice(0, TextDelta(delta.Text), logprobs.Map(delta.Logprobs), null)
                                {
                                    TokenIds = request.ReturnTokenIds ? delta.TokenIds : null,
                                };
                                sse.BufferEvent(Chunk([choice], null), OpenAiJsonContext.Wire.ChatCompletionChunk);
                            }

                            break;
                        case FinishedEvent { Reason: FinishReason.Cancelled }:
                            return;
                        case FinishedEvent finished:
                            await FinishAsync(sse, finished, ct).ConfigureAwait(false);
                            return;
                        case ErrorEvent error:
                            await WriteErrorAsync(sse, ApiError.FromEngine(error.Error, context.TraceIdentifier), ct).ConfigureAwait(false);
                            return;
                    }
                }

                if (outputs is not null)
                {
                    BufferMedia(sse, outputs.TakeReady());
                }

                await sse.FlushAsync(ct).ConfigureAwait(false);
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

    private bool HasContent(TokenDeltaEvent delta) =>
        delta.Text.Length > 0 || (delta.TokenIds.Count > 0 && (request.Sampling.Logprobs || request.ReturnTokenIds));

    /// <summary>Text goes to delta.content, or to delta.audio.transcript when the reply is audio.</summary>
    private ChunkDelta TextDelta(string text) => audio is null
        ? new ChunkDelta(null, text)
        : new ChunkDelta(null, null) { Audio = text.Length == 0 ? null : new ChunkAudioDelta(audio.Id) { Transcript = text } };

    private void BufferMedia(SseWriter sse, IReadOnlyList<GeneratedMedia> ready)
    {
        if (ready.Count == 0)
        {
            return;
        }

        var images = ready.Where(m => m.IsImage).Select(m => ChatImageOutput.FromDataUrl(m.ToPngDataUrl())).ToList();
        if (images.Count > 0)
        {
            BufferDelta(sse, new ChunkDelta(null, null) { Images = images });
        }

        if (audio is null)
        {
            return;
        }

        foreach (var clip in ready.Where(m => !m.IsImage))
        {
            if (audio.Add(clip) is { } data)
            {
                BufferDelta(sse, new ChunkDelta(null, null) { Audio = new ChunkAudioDelta(audio.Id) { Data = data, ExpiresAt = audio.ExpiresAt } });
            }
        }
    }

    private void BufferDelta(SseWriter sse, ChunkDelta delta) =>
        sse.BufferEvent(Chunk([new ChunkChoice(0, delta, null, null)], null), OpenAiJsonContext.Wire.ChatCompletionChunk);

    private async Task FinishAsync(SseWriter sse, FinishedEvent finished, CancellationToken ct)
    {
        if (outputs is not null)
        {
            BufferMedia(sse, await outputs.TakeAllAsync().ConfigureAwait(false));
        }

        if (audio is { StreamsClips: false })
        {
            // A WAV file needs every clip; it goes out whole, just before the finish chunk.
            BufferDelta(sse, new ChunkDelta(null, null) { Audio = new ChunkAudioDelta(audio.Id) { Data = audio.WholeRecording(), ExpiresAt = audio.ExpiresAt } });
        }

        var last = new ChunkChoice(0, new ChunkDelta(null, null), null, ChatCompletionService.ToWire(finished.Reason));
        await WriteChoiceAsync(sse, last, ct).ConfigureAwait(false);
        if (request.IncludeUsage)
        {
            var usage = new Usage(finished.PromptTokens, finished.CompletionTokens, finished.PromptTokens + finished.CompletionTokens);
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
