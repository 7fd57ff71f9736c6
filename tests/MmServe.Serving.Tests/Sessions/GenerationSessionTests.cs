using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Model.Chat;
using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tests.Fakes;

namespace MmServe.Serving.Tests.Sessions;

/// <summary>The one request path (prompt → submission → typed events) over a scripted engine: no ORT decoder, no Kestrel.</summary>
public sealed class GenerationSessionTests
{
    private readonly ScriptedEngine _engine = new();

    private GenerationService Service()
    {
        var embedder = new MediaEmbedder(new Dictionary<string, MediaModality>(), TestModel.Policy(), new EncoderOutputCache(0), null);
        return new GenerationService(
            new PromptPreparer(TestModel.Model, embedder), _engine, TestModel.Generator, new TokenLogprobs(TestModel.Model), NullLogger<GenerationSession>.Instance);
    }

    private static ValidatedRequest Request(string text = "Count from one to five.", SamplingParams? sampling = null) =>
        new([ChatTurn.FromText("user", text)], [], sampling ?? new SamplingParams { Temperature = 0, MaxTokens = 8 }, RequestedOutputs.TextOnly);

    private static async Task<List<SessionEvent>> ReadAllAsync(GenerationSession session)
    {
        var events = new List<SessionEvent>();
        await foreach (var item in session.ReadEventsAsync(CancellationToken.None))
        {
            events.Add(item);
        }

        return events;
    }

    [Fact]
    public async Task Start_SubmitsThePromptOnceAndYieldsDeltasThenFinished()
    {
        _engine.Script.AddRange([new TokenDeltaEvent([11, 12], "one two"), new TokenDeltaEvent([13], " three"), new FinishedEvent(FinishReason.Stop, 20, 3)]);
        var (session, error) = await Service().StartAsync(Request(), "req-1", CancellationToken.None);

        Assert.Null(error);
        var submitted = Assert.Single(_engine.Submitted);
        Assert.Equal(TestModel.Model.Prompts.Build([ChatTurn.FromText("user", "Count from one to five.")]).Ids, submitted.PromptTokenIds.ToArray());
        Assert.Equal(submitted.PromptTokenIds.ToArray(), session!.PromptTokenIds);
        var events = await ReadAllAsync(session);
        Assert.Equal(["one two", " three"], events.OfType<TextDelta>().Select(d => d.Text));
        var finished = Assert.IsType<SessionFinished>(events[^1]);
        Assert.Equal((FinishReason.Stop, 20, 3, 23), (finished.Reason, finished.PromptTokens, finished.CompletionTokens, finished.TotalTokens));
    }

    [Fact]
    public async Task EngineStreamWithoutATerminalEvent_EndsAsAnInternalFailure()
    {
        _engine.Script.Add(new TokenDeltaEvent([11], "one"));
        var (session, _) = await Service().StartAsync(Request(), "req-2", CancellationToken.None);

        var events = await ReadAllAsync(session!);
        var failed = Assert.IsType<SessionFailed>(events[^1]);
        Assert.Equal(ServingErrorKind.Internal, failed.Error.Kind);
        Assert.Contains("req-2", failed.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EngineErrorAfterAdmission_IsAFailedEventOfTheMappedKind()
    {
        _engine.Script.AddRange([new TokenDeltaEvent([11], "one"), new ErrorEvent(new EngineError(EngineErrorCode.Unavailable, "Shutting down."))]);
        var (session, _) = await Service().StartAsync(Request(), "req-3", CancellationToken.None);

        var (result, failure) = await session!.CompleteAsync(CancellationToken.None);
        Assert.Null(result);
        Assert.Equal((ServingErrorKind.Unavailable, "unavailable"), (failure!.Kind, failure.Code));
        Assert.Equal(TimeSpan.FromSeconds(5), failure.RetryAfter);
    }

    [Fact]
    public async Task FullQueue_IsRefusedAtStartAsOverloaded()
    {
        _engine.Rejection = new EngineError(EngineErrorCode.QueueFull, "The queue is full.");
        var (session, error) = await Service().StartAsync(Request(), "req-4", CancellationToken.None);
        Assert.Null(session);
        Assert.Equal((ServingErrorKind.Overloaded, "queue_full"), (error!.Kind, error.Code));
        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
    }

    [Fact]
    public async Task FiveMegabyteTextPart_IsRefusedFromItsLengthWithoutTokenizing()
    {
        // Tokenizing 5 MB took 2.7 s of a core before its 400; the length bound answers first, and only the
        // length check's message says "judged from their length" (the tokenized check counts the real tokens).
        var request = Request(new string('a', 5 * 1024 * 1024));
        var (session, error) = await Service().StartAsync(request, "req-long", CancellationToken.None);

        Assert.Null(session);
        Assert.Equal(("context_length_exceeded", "messages"), (error!.Code, error.Param));
        Assert.Contains("judged from their length, before tokenizing", error.Message, StringComparison.Ordinal);
        Assert.Empty(_engine.Submitted);
    }

    [Fact]
    public async Task PromptAndCompletionBeyondTheContext_AreRefusedBeforeSubmission()
    {
        var request = Request(string.Join(' ', Enumerable.Repeat("one two three four", 200))) with { PromptParam = "prompt" };
        var (session, error) = await Service().StartAsync(request, "req-5", CancellationToken.None);

        Assert.Null(session);
        Assert.Equal(("context_length_exceeded", "prompt"), (error!.Code, error.Param));
        Assert.Empty(_engine.Submitted);
    }

    [Fact]
    public async Task Logprobs_AreResolvedToTokenTextAndBytes()
    {
        int id = TestModel.Model.Tokenizer.TokenToId("one") ?? TestModel.Model.Tokenizer.Encode("one")[0];
        var logprob = new TokenLogprob(id, float.NegativeInfinity, [new TopLogprob(id, -0.5f)]);
        _engine.Script.AddRange([new TokenDeltaEvent([id], "one", [logprob]), new FinishedEvent(FinishReason.Length, 10, 1)]);
        var (session, _) = await Service().StartAsync(Request(sampling: new SamplingParams { Logprobs = true, TopLogprobs = 1 }), "req-6", CancellationToken.None);

        var (result, _) = await session!.CompleteAsync(CancellationToken.None);
        var entry = Assert.Single(result!.Logprobs!);
        var bytes = TestModel.Model.Tokenizer.TokenBytes(id);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(bytes), entry.Token);
        Assert.Equal(bytes.Select(b => (int)b), entry.Bytes);
        Assert.Equal(-9999f, entry.Logprob);
        Assert.Equal(-0.5f, Assert.Single(entry.TopLogprobs).Logprob);
        Assert.Equal(FinishReason.Length, result.Finished.Reason);
    }

    [Fact]
    public async Task CancelledRequest_EndsAsCancelledWithoutMedia()
    {
        _engine.Script.AddRange([new TokenDeltaEvent([11], "one"), new FinishedEvent(FinishReason.Cancelled, 10, 1)]);
        var (session, _) = await Service().StartAsync(Request(), "req-7", CancellationToken.None);
        var (result, error) = await session!.CompleteAsync(CancellationToken.None);
        Assert.Null(error);
        Assert.Equal(FinishReason.Cancelled, result!.Finished.Reason);
        Assert.Empty(result.Media);
    }
}
