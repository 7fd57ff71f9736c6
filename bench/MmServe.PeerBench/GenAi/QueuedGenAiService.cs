using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntimeGenAI;
using MmServe.Bench.Client;
using MmServe.PeerBench.Workload;

namespace MmServe.PeerBench.GenAi;

/// <summary>
/// ORT GenAI behind a request queue, the way a .NET service would put it behind an endpoint: requests are queued as
/// they are sent, dedicated threads take them (<see cref="Serve"/>), and each caller awaits its own result.
/// </summary>
internal abstract class QueuedGenAiService : IDisposable
{
    private readonly Thread[] _workers;

    protected QueuedGenAiService(Model model, Tokenizer tokenizer, int threads, string name)
    {
        Model = model;
        Tokenizer = tokenizer;
        _workers = [.. Enumerable.Range(0, threads).Select(i => new Thread(ServeAll) { IsBackground = true, Name = $"{name}-{i}" })];
        foreach (var worker in _workers)
        {
            worker.Start();
        }
    }

    protected Model Model { get; }

    protected Tokenizer Tokenizer { get; }

    protected BlockingCollection<PendingRequest> Queue { get; } = [];

    public Task<RequestResult> SendAsync(PeerRequest request)
    {
        var pending = new PendingRequest(request);
        Queue.Add(pending);
        return pending.Done.Task;
    }

    public void Dispose()
    {
        Queue.CompleteAdding();
        foreach (var worker in _workers)
        {
            worker.Join();
        }

        Queue.Dispose();
    }

    /// <summary>Runs <paramref name="first"/> (and whatever else the service takes from <see cref="Queue"/> with it) to completion.</summary>
    protected abstract void Serve(PendingRequest first);

    private void ServeAll()
    {
        foreach (var first in Queue.GetConsumingEnumerable())
        {
            Serve(first);
        }
    }
}
