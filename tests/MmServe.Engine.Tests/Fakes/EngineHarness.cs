using System.Diagnostics;
using MmServe.Abstractions;

namespace MmServe.Engine.Tests.Fakes;

/// <summary>A real <see cref="GenerationEngine"/> over fake executors; disposing it also checks the executor protocol.</summary>
internal sealed class EngineHarness : IDisposable
{
    public EngineHarness(FakeModelOptions? model = null, EngineOptions? options = null, Func<int, string>? textOf = null)
        : this(_ => model ?? new FakeModelOptions(), options, textOf, (model ?? new FakeModelOptions()).EosTokenId)
    {
    }

    public EngineHarness(Func<int, FakeModelOptions> modelPerWorker, EngineOptions? options, Func<int, string>? textOf, int eosTokenId)
    {
        Factory = new FakeExecutorFactory(modelPerWorker);
        Engine = new GenerationEngine(Factory, new FakeTokenTextDecoder(new HashSet<int> { eosTokenId }, textOf), options);
    }

    public GenerationEngine Engine { get; }

    public FakeExecutorFactory Factory { get; }

    public FakeModelExecutor Executor => Factory.Created[0];

    public async Task<GenerationHandle> SubmitAsync(int[] prompt, SamplingParams? sampling = null, CancellationToken ct = default, string id = "req")
    {
        return await Engine.SubmitAsync(new GenerationRequest(id, prompt, sampling ?? Greedy()), ct);
    }

    public static SamplingParams Greedy(int? maxTokens = null) => new() { Temperature = 0, MaxTokens = maxTokens };

    public void Dispose()
    {
        Engine.Dispose();
        foreach (var executor in Factory.Created)
        {
            Assert.Empty(executor.Violations);
        }
    }
}

internal sealed record GenerationResult(
    IReadOnlyList<int> Tokens,
    string Text,
    IReadOnlyList<TokenLogprob> Logprobs,
    IReadOnlyList<HiddenStatesChunk> Hidden,
    GenerationEvent Terminal,
    int DeltaCount)
{
    public FinishedEvent Finished => Assert.IsType<FinishedEvent>(Terminal);

    public EngineError Error => Assert.IsType<ErrorEvent>(Terminal).Error;
}

internal static class TestUtil
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Reads a handle to its end; a hung engine fails the test after <see cref="Timeout"/> instead of hanging it.</summary>
    public static async Task<GenerationResult> CollectAsync(this GenerationHandle handle)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var tokens = new List<int>();
        var text = new System.Text.StringBuilder();
        var logprobs = new List<TokenLogprob>();
        var hidden = new List<HiddenStatesChunk>();
        GenerationEvent? terminal = null;
        int deltas = 0;

        await foreach (var item in handle.Events.ReadAllAsync(cts.Token))
        {
            Assert.Null(terminal);
            switch (item)
            {
                case TokenDeltaEvent delta:
                    deltas++;
                    tokens.AddRange(delta.TokenIds);
                    text.Append(delta.Text);
                    if (delta.Logprobs is not null)
                    {
                        logprobs.AddRange(delta.Logprobs);
                    }

                    if (delta.HiddenStates is not null)
                    {
                        hidden.Add(delta.HiddenStates);
                    }

                    break;
                default:
                    terminal = item;
                    break;
            }
        }

        Assert.NotNull(terminal);
        return new GenerationResult(tokens, text.ToString(), logprobs, hidden, terminal, deltas);
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Timeout)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }

            await Task.Delay(2);
        }
    }

    public static int[] Prompt(int length, int salt = 0) =>
        [.. Enumerable.Range(0, length).Select(i => 1 + (i * 7 + salt * 13) % 30)];
}
