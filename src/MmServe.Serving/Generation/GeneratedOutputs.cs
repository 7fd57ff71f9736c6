using MmServe.Engine;

namespace MmServe.Serving.Generation;

/// <summary>
/// The generated media of one request: watches its engine stream, starts a generator item as soon as one is
/// complete (while the LLM keeps decoding), and hands the results back in the order the model emitted them.
/// Cancelling the request's token (client disconnect) cancels queued and running generator work.
/// </summary>
public sealed class GeneratedOutputs
{
    private readonly SignalCollector _signals;
    private readonly IMediaGenerator _generator;
    private readonly CancellationToken _ct;
    private readonly List<SignalItem> _completed = [];
    private readonly Queue<Task<GeneratedMedia>> _pending = new();

    public GeneratedOutputs(IReadOnlyList<OutputModality> requested, IMediaGenerator generator, int promptLength, int hiddenSize, CancellationToken ct)
    {
        _signals = new SignalCollector(requested, promptLength, hiddenSize);
        _generator = generator;
        _ct = ct;
    }

    /// <summary>For <see cref="GenerationRequest.HiddenStateTokenIds"/>.</summary>
    public IReadOnlySet<int> SignalTokenIds => _signals.TokenIds;

    public void Observe(TokenDeltaEvent delta)
    {
        _signals.Observe(delta, _completed);
        foreach (var item in _completed)
        {
            _pending.Enqueue(GenerateAsync(item));
        }

        _completed.Clear();
    }

    private async Task<GeneratedMedia> GenerateAsync(SignalItem item)
    {
        var media = await _generator.GenerateAsync(item.Modality, item.SignalHiddenStates, _ct).ConfigureAwait(false);
        return media with { TokenStart = item.TokenStart, TokenEnd = item.TokenEnd };
    }

    /// <summary>Items already generated, in emission order (stops at the first still running).</summary>
    public IReadOnlyList<GeneratedMedia> TakeReady()
    {
        List<GeneratedMedia>? ready = null;
        while (_pending.TryPeek(out var next) && next.IsCompleted)
        {
            (ready ??= []).Add(_pending.Dequeue().GetAwaiter().GetResult());
        }

        return ready ?? (IReadOnlyList<GeneratedMedia>)[];
    }

    /// <summary>Waits for every item still running, in emission order.</summary>
    public async Task<IReadOnlyList<GeneratedMedia>> TakeAllAsync()
    {
        var all = new List<GeneratedMedia>(_pending.Count);
        while (_pending.TryDequeue(out var next))
        {
            all.Add(await next.ConfigureAwait(false));
        }

        return all;
    }
}
