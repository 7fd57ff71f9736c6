using Microsoft.ML.OnnxRuntimeGenAI;
using MmServe.Bench.Client;
using MmServe.Bench.Running;
using MmServe.PeerBench;
using MmServe.PeerBench.GenAi;
using MmServe.PeerBench.InProcess;
using MmServe.PeerBench.Reporting;
using MmServe.PeerBench.Workload;

// MmServe vs ONNX Runtime GenAI on the same folder and the same request stream (README.md). Arms alternate within
// each load point, run after run, so machine noise hits all of them alike.
PeerBenchOptions options;
try
{
    options = PeerBenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"peerbench: {e.Message}");
    return 2;
}

using var handle = new OgaHandle();
using var model = new Model(options.ModelFolder);
using var tokenizer = new Tokenizer(model);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { Timeout = TimeSpan.FromMinutes(5) };
var client = options.Url is { } url ? new ChatStreamClient(http, url) : null;
using var inProcess = options.Arms.Contains(PeerBenchOptions.InProcessArm)
    ? await InProcessArm.StartAsync(options.InProcessDll, options.ModelFolder, options.MaxBatchSize)
    : null;
int contextLength = ContextLength(options.ModelFolder);

var summaries = new List<ArmSummary>();
foreach (var workload in options.Workloads)
{
    var requests = WorkloadBuilder.Build(workload, options.Requests, contextLength, options.UniformOutput, options.Seed, tokenizer);
    var bodies = requests.Select(r => WorkloadBuilder.ToHttp(r, options.ModelId)).ToList();
    Console.Error.WriteLine(FormattableString.Invariant(
        $"{workload}: {requests.Count} requests, prompt {requests.Min(r => r.PromptTokens)}–{requests.Max(r => r.PromptTokens)} tokens, output {requests.Min(r => r.OutputTokens)}–{requests.Max(r => r.OutputTokens)} (mean {requests.Average(r => r.OutputTokens):F0})"));

    var loads = options.Concurrency.Select(c => (Name: $"c={c}", Concurrency: (int?)c, Rate: (double?)null, Batch: c)).ToList();
    if (options.PoissonRate is { } rate)
    {
        loads.Add((FormattableString.Invariant($"poisson {rate:0.#}/s"), null, rate, options.PoissonBatch));
    }

    foreach (var load in loads)
    {
        var runs = options.Arms.ToDictionary(a => a, _ => new List<RunResult>());
        for (int run = 0; run < options.Runs + 1; run++)
        {
            foreach (var arm in options.Arms)
            {
                using var service = arm switch
                {
                    PeerBenchOptions.StaticArm => new StaticBatchService(model, tokenizer, load.Batch),
                    PeerBenchOptions.Batch1Arm => (QueuedGenAiService)new PooledBatch1Service(model, tokenizer, load.Batch),
                    _ => null,
                };
                // Run 0 warms each arm up at this load and is not counted: thread pools, arenas, connections, and the
                // JIT's tiering (a server's first ~1,000 requests run slower until its hot paths are recompiled).
                int take = Math.Min(bodies.Count, options.WarmupRequests ?? bodies.Count);
                int seed = options.Seed + run;
                RunResult result;
                if (arm == PeerBenchOptions.InProcessArm)
                {
                    result = await inProcess!.RunAsync(run == 0 ? requests.Take(take).ToList() : requests, load.Concurrency, load.Rate, seed);
                }
                else
                {
                    var runner = service is null
                        ? new LoadRunner(client!)
                        : new LoadRunner((request, _) => service.SendAsync(requests[request.Index]));
                    result = await runner.RunAsync(run == 0 ? bodies.Take(take).ToList() : bodies, load.Concurrency, load.Rate, seed, CancellationToken.None);
                }

                if (run > 0)
                {
                    runs[arm].Add(result);
                    Console.Error.WriteLine(FormattableString.Invariant(
                        $"  {workload} {load.Name} {arm} run {run}: {result.Requests.Where(q => q.Success).Sum(q => q.CompletionTokens) / result.DurationSeconds:F0} tok/s, {result.Requests.Count(q => !q.Success)} failed{FirstError(result)}"));
                }
            }
        }

        summaries.AddRange(options.Arms.Select(arm => ArmSummary.From(workload, load.Name, arm, runs[arm])));
    }
}

Console.WriteLine();
ArmSummary.PrintTable(summaries, Console.Out);
return 0;

static string FirstError(RunResult result) =>
    result.Requests.FirstOrDefault(q => !q.Success) is { } failed ? $" (first: {failed.Error})" : "";

static int ContextLength(string folder)
{
    using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "genai_config.json")));
    return config.RootElement.GetProperty("model").GetProperty("context_length").GetInt32();
}
