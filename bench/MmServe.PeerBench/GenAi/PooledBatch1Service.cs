using System.Diagnostics;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace MmServe.PeerBench.GenAi;

/// <summary>
/// ORT GenAI's Generator at batch 1 per request on a pool of <c>threads</c> threads sharing one Model: the other way a
/// .NET service would use the C# API (no batching at all; each thread's decode steps contend for the cores).
/// </summary>
internal sealed class PooledBatch1Service(Model model, Tokenizer tokenizer, int threads)
    : QueuedGenAiService(model, tokenizer, threads, "genai-batch1")
{
    protected override void Serve(PendingRequest first)
    {
        try
        {
            Run(first);
        }
        catch (Exception e) when (e is OnnxRuntimeGenAIException or ArgumentException or InvalidOperationException)
        {
            first.Fail(e);
        }
    }

    private void Run(PendingRequest pending)
    {
        int steps = pending.Request.OutputTokens;
        using var prompt = Tokenizer.Encode(pending.Request.PromptText);
        int length = prompt[0].Length + steps;
        using var parameters = new GeneratorParams(Model);
        parameters.SetSearchOption("do_sample", false);
        parameters.SetSearchOption("max_length", length);
        parameters.SetSearchOption("min_length", length);
        using var generator = new Generator(Model, parameters);
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
