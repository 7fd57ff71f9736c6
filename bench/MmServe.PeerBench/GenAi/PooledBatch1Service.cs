using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace MmServe.PeerBench.GenAi;

/// <summary>
/// ORT GenAI's Generator at batch 1 per request on a pool of <c>threads</c> threads sharing one Model: the other way a
/// .NET service would use the C# API (no batching at all; each thread's decode steps contend for the cores).
/// </summary>
internal sealed class PooledBatch1Service : IGenAiService
{
    private readonly Model _model;
    private readonly Tokenizer _tokenizer;
    private readonly BlockingCollection<PendingRequest> _queue = [];
    private readonly Thread[] _workers;

    public PooledBatch1Service(Model model, Tokenizer tokenizer, int threads)
    {
        _model = model;
        _tokenizer = tokenizer;
        _workers = [.. Enumerable.Range(0, threads).Select(i => new Thread(Loop) { IsBackground = true, Name = $"genai-batch1-{i}" })];
        foreach (var worker in _workers)
        {
            worker.Start();
        }
    }

    public Task<Bench.Client.RequestResult> SendAsync(Workload.PeerRequest request)
    {
        var pending = new PendingRequest(request);
        _queue.Add(pending);
        return pending.Done.Task;
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var worker in _workers)
        {
            worker.Join();
        }

        _queue.Dispose();
    }

    private void Loop()
    {
        foreach (var pending in _queue.GetConsumingEnumerable())
        {
            try
            {
                Run(pending);
            }
            catch (Exception e) when (e is OnnxRuntimeGenAIException or ArgumentException or InvalidOperationException)
            {
                pending.Fail(e);
            }
        }
    }

    private void Run(PendingRequest pending)
    {
        int steps = pending.Request.OutputTokens;
        using var prompt = _tokenizer.Encode(pending.Request.PromptText);
        int length = prompt[0].Length + steps;
        using var parameters = new GeneratorParams(_model);
        parameters.SetSearchOption("do_sample", false);
        parameters.SetSearchOption("max_length", length);
        parameters.SetSearchOption("min_length", length);
        using var generator = new Generator(_model, parameters);
        generator.AppendTokenSequences(prompt);
        var times = new long[steps];
        for (int step = 0; step < steps; step++)
        {
            generator.GenerateNextToken();
            times[step] = Stopwatch.GetTimestamp();
        }

        pending.Complete(times);
    }
}
