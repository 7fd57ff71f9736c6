using System.Text;
using System.Threading.Channels;
using MmServe.Abstractions;

namespace MmServe.Engine.Output;

/// <summary>
/// The per-request stream between the step loop and the API reader (vLLM's RequestOutputCollector). Posting
/// never blocks: deltas the reader has not taken yet are merged into one, so a slow reader costs memory
/// proportional to its backlog of tokens, never a stalled batch. Exposed to readers as a ChannelReader.
/// </summary>
internal sealed class RequestOutputCollector : ChannelReader<GenerationEvent>
{
    private readonly Lock _gate = new();
    private readonly bool _wantsLogprobs;
    private readonly int _hiddenSize;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly List<int> _tokens = [];
    private readonly List<long> _timestamps = [];
    private readonly StringBuilder _text = new();
    private readonly List<TokenLogprob> _logprobs = [];
    private float[] _hidden = [];
    private readonly List<int> _hiddenPositions = [];

    private GenerationEvent? _terminal;
    private bool _terminalTaken;
    private TaskCompletionSource<bool>? _waiter;

    public RequestOutputCollector(bool wantsLogprobs, int hiddenSize)
    {
        _wantsLogprobs = wantsLogprobs;
        _hiddenSize = hiddenSize;
    }

    public override Task Completion => _completion.Task;

    /// <summary>Only the step loop posts; several posts between two reads become one delta.</summary>
    /// <param name="sampledAt">Stopwatch timestamp of the step that sampled the token (0: unknown).</param>
    public void PostDelta(int tokenId, string text, TokenLogprob? logprob, ReadOnlySpan<float> hiddenStates, int hiddenStartPosition, long sampledAt = 0)
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            if (_terminal is not null)
            {
                return;
            }

            _tokens.Add(tokenId);
            _timestamps.Add(sampledAt);
            _text.Append(text);
            if (logprob is not null)
            {
                _logprobs.Add(logprob);
            }

            AppendHidden(hiddenStates, hiddenStartPosition);
            waiter = TakeWaiter();
        }

        waiter?.TrySetResult(true);
    }

    /// <summary>Text without a new token (held-back text released at the end).</summary>
    public void PostText(string text)
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            if (_terminal is not null || text.Length == 0)
            {
                return;
            }

            _text.Append(text);
            waiter = TakeWaiter();
        }

        waiter?.TrySetResult(true);
    }

    /// <summary>Posts the last event; later posts are ignored. Pending deltas are still delivered before it.</summary>
    public void Complete(GenerationEvent terminal)
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            if (_terminal is not null)
            {
                return;
            }

            _terminal = terminal;
            waiter = TakeWaiter();
        }

        waiter?.TrySetResult(true);
    }

    public override bool TryRead(out GenerationEvent item)
    {
        lock (_gate)
        {
            if (HasDelta)
            {
                item = TakeDelta();
                return true;
            }

            if (_terminal is not null && !_terminalTaken)
            {
                _terminalTaken = true;
                item = _terminal;
                _completion.TrySetResult();
                return true;
            }
        }

        item = null!;
        return false;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        Task<bool> wait;
        lock (_gate)
        {
            if (HasDelta || (_terminal is not null && !_terminalTaken))
            {
                return new ValueTask<bool>(true);
            }

            if (_terminalTaken)
            {
                return new ValueTask<bool>(false);
            }

            _waiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _waiter.Task;
        }

        return new ValueTask<bool>(cancellationToken.CanBeCanceled ? wait.WaitAsync(cancellationToken) : wait);
    }

    private bool HasDelta => _tokens.Count > 0 || _text.Length > 0 || _hiddenPositions.Count > 0;

    private TaskCompletionSource<bool>? TakeWaiter()
    {
        var waiter = _waiter;
        _waiter = null;
        return waiter;
    }

    private TokenDeltaEvent TakeDelta()
    {
        HiddenStatesChunk? hidden = null;
        if (_hiddenPositions.Count > 0)
        {
            hidden = new HiddenStatesChunk(_hiddenPositions.ToArray(), _hidden.AsSpan(0, _hiddenPositions.Count * _hiddenSize).ToArray());
        }

        var delta = new TokenDeltaEvent(
            _tokens.ToArray(),
            _text.ToString(),
            _wantsLogprobs ? _logprobs.ToArray() : null,
            hidden)
        {
            SampledAt = _timestamps.ToArray(),
        };

        _tokens.Clear();
        _timestamps.Clear();
        _text.Clear();
        _logprobs.Clear();
        _hiddenPositions.Clear();
        return delta;
    }

    private void AppendHidden(ReadOnlySpan<float> hiddenStates, int startPosition)
    {
        if (hiddenStates.IsEmpty || _hiddenSize == 0)
        {
            return;
        }

        int used = _hiddenPositions.Count * _hiddenSize;
        if (_hidden.Length < used + hiddenStates.Length)
        {
            Array.Resize(ref _hidden, Math.Max(used + hiddenStates.Length, _hidden.Length * 2));
        }

        hiddenStates.CopyTo(_hidden.AsSpan(used));
        int rows = hiddenStates.Length / _hiddenSize;
        for (int i = 0; i < rows; i++)
        {
            _hiddenPositions.Add(startPosition + i);
        }
    }
}
