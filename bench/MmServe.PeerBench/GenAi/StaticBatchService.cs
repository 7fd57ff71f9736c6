using System.Diagnostics;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace MmServe.PeerBench.GenAi;

/// <summary>
/// ORT GenAI's C# Generator as a static batcher: one thread takes every queued request up to <c>maxBatch</c>, runs
/// them as one batch (<c>batch_size</c>, prompts padded by <c>EncodeBatch</c>) until the longest is done, and only
/// then takes the next batch — requests that arrive meanwhile wait (the managed API has no way to join a running
/// batch). Each request is answered as soon as its own last token exists.
/// </summary>
internal sealed class StaticBatchService(Model model, Tokenizer tokenizer, int maxBatch)
    : QueuedGenAiService(model, tokenizer, threads: 1, "genai-static-batch")
{
    protected override void Serve(PendingRequest first)
    {
        var batch = new List<PendingRequest>(maxBatch) { first };
        while (batch.Count < maxBatch && Queue.TryTake(out var next))
        {
            batch.Add(next);
        }

        try
        {
            Run(batch);
        }
        catch (Exception e) when (e is OnnxRuntimeGenAIException or ArgumentException or InvalidOperationException)
        {
            batch.ForEach(p => p.Fail(e));
        }
    }

    private void Run(List<PendingRequest> batch)
    {
        int steps = batch.Max(p => p.Request.OutputTokens);
        using var prompts = Tokenizer.EncodeBatch([.. batch.Select(p => p.Request.PromptText)]);
        int promptLength = 0;
        for (ulong i = 0; i < prompts.NumSequences; i++)
        {
            promptLength = Math.Max(promptLength, prompts[i].Length);
        }

        using var parameters = new GeneratorParams(Model);
        parameters.SetSearchOption("batch_size", batch.Count);
        parameters.SetSearchOption("do_sample", false);
        parameters.SetSearchOption("max_length", promptLength + steps);
        parameters.SetSearchOption("min_length", promptLength + steps); // EOS ignored, as the server is asked to
        using var generator = new Generator(Model, parameters);
        generator.AppendTokenSequences(prompts);
        var times = new long[steps];
        for (int step = 0; step < steps; step++)
        {
            generator.GenerateNextToken();
            times[step] = Stopwatch.GetTimestamp();
            foreach (var pending in batch)
            {
                if (pending.Request.OutputTokens == step + 1)
                {
                    pending.Complete(times);
                }
            }
        }
    }
}
