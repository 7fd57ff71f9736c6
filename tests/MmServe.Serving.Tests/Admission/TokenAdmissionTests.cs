using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Abstractions;
using MmServe.Engine;
using MmServe.Model.Chat;
using MmServe.Serving.Admission;
using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tests.Fakes;

namespace MmServe.Serving.Tests.Admission;

/// <summary>
/// The tokens-per-minute hook of the one request path: the budget is asked with the real prompt length and the
/// completion budget before the engine sees the request, a refusal never reaches the engine, and the reservation is
/// settled to the real usage however the generation ends.
/// </summary>
public sealed class TokenAdmissionTests
{
    private readonly ScriptedEngine _engine = new();

    private GenerationService Service()
    {
        var embedder = new MediaEmbedder(new Dictionary<string, MediaModality>(), TestModel.Policy(), new EncoderOutputCache(0), null);
        return new GenerationService(
            new PromptPreparer(TestModel.Model, embedder), _engine, TestModel.Generator, new TokenLogprobs(TestModel.Model), NullLogger<GenerationSession>.Instance);
    }

    private static ValidatedRequest Request(int? maxTokens = 8) =>
        new([ChatTurn.FromText("user", "Count from one to five.")], [], new SamplingParams { Temperature = 0, MaxTokens = maxTokens }, RequestedOutputs.TextOnly);

    private static int PromptLength => TestModel.Model.Prompts.Build([ChatTurn.FromText("user", "Count from one to five.")]).Ids.Length;

    [Fact]
    public async Task Budget_IsAskedForPromptPlusMaxTokens_AndSettledToTheRealUsage()
    {
        _engine.Script.AddRange([new TokenDeltaEvent([11, 12], "one two"), new FinishedEvent(FinishReason.Stop, PromptLength, 2)]);
        var budget = new RecordingBudget();

        var (session, error) = await Service().StartAsync(Request(maxTokens: 8), "req-1", budget, CancellationToken.None);

        Assert.Null(error);
        Assert.Equal([(PromptLength, 8)], budget.Asked);
        Assert.Empty(budget.Settled); // held while the generation runs
        await foreach (var _ in session!.ReadEventsAsync(CancellationToken.None))
        {
        }

        Assert.Equal([PromptLength + 2], budget.Settled);
    }

    [Fact]
    public async Task WithoutMaxTokens_TheRestOfTheContextIsReserved()
    {
        _engine.Script.Add(new FinishedEvent(FinishReason.Stop, PromptLength, 0));
        var budget = new RecordingBudget();

        await Service().StartAsync(Request(maxTokens: null), "req-2", budget, CancellationToken.None);

        Assert.Equal([(PromptLength, TestModel.Model.MaxContext - PromptLength)], budget.Asked);
    }

    [Fact]
    public async Task Refusal_NeverReachesTheEngine()
    {
        var refusal = new ServingError(ServingErrorKind.RateLimited, "rate_limit_exceeded", "Rate limit reached.") { RetryAfter = TimeSpan.FromSeconds(3) };
        var budget = new RecordingBudget { Refusal = refusal };

        var (session, error) = await Service().StartAsync(Request(), "req-3", budget, CancellationToken.None);

        Assert.Null(session);
        Assert.Same(refusal, error);
        Assert.Empty(_engine.Submitted);
    }

    [Fact]
    public async Task EngineRejection_GivesEverythingBack()
    {
        _engine.Rejection = new EngineError(EngineErrorCode.QueueFull, "The queue is full.");
        var budget = new RecordingBudget();

        var (_, error) = await Service().StartAsync(Request(), "req-4", budget, CancellationToken.None);

        Assert.Equal(ServingErrorKind.Overloaded, error!.Kind);
        Assert.Equal([0], budget.Settled);
    }

    [Fact]
    public async Task ReaderThatStopsEarly_IsChargedWhatWasGenerated()
    {
        _engine.Script.AddRange([new TokenDeltaEvent([11, 12, 13], "one two three"), new TokenDeltaEvent([14], " four"), new FinishedEvent(FinishReason.Stop, PromptLength, 4)]);
        var budget = new RecordingBudget();
        var (session, _) = await Service().StartAsync(Request(), "req-5", budget, CancellationToken.None);

        await foreach (var item in session!.ReadEventsAsync(CancellationToken.None))
        {
            break; // the client went away after the first delta
        }

        Assert.Equal([PromptLength + 3], budget.Settled);
    }

    private sealed class RecordingBudget : ITokenBudget
    {
        public List<(int Prompt, int Completion)> Asked { get; } = [];

        public List<int> Settled { get; } = [];

        public ServingError? Refusal { get; init; }

        public (ITokenReservation? Reservation, ServingError? Refused) Reserve(int promptTokens, int maxCompletionTokens)
        {
            Asked.Add((promptTokens, maxCompletionTokens));
            return Refusal is null ? (new Reservation(Settled), null) : (null, Refusal);
        }

        private sealed class Reservation(List<int> settled) : ITokenReservation
        {
            private bool _done;

            public void Settle(int usedTokens)
            {
                if (!_done)
                {
                    _done = true;
                    settled.Add(usedTokens);
                }
            }
        }
    }
}
