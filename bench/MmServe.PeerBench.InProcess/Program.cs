using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Bench.Client;
using MmServe.Bench.Running;
using MmServe.Bench.Workload;
using MmServe.Engine;
using MmServe.PeerBench.InProcess;
using MmServe.Serving;
using MmServe.Serving.Generation;
using MmServe.Serving.Media;
using MmServe.Serving.Models;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;

// PeerBench's "mmserve-inproc" arm (bench/MmServe.PeerBench/README.md): the served model built exactly as the server
// builds a "Models" entry, warmed up as the server warms it, then driven with no HTTP. Each request goes through the
// same rules, chat template, tokenizer, engine and detokenizer as a chat completion; the times are taken where an
// edge would write each delta. Protocol: "ready" on stdout once loaded; then per run one InProcessRun JSON line in,
// one RunResult JSON line out; end of input ends the process.
//
//   dotnet MmServe.PeerBench.InProcess.dll --model-folder <folder> [--max-batch-size 32]
var values = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i + 1 < args.Length; i += 2)
{
    values[args[i].TrimStart('-')] = args[i + 1];
}

if (!values.TryGetValue("model-folder", out var folder))
{
    Console.Error.WriteLine("peerbench-inproc: --model-folder is required");
    return 2;
}

int maxBatch = values.TryGetValue("max-batch-size", out var mb) ? int.Parse(mb, CultureInfo.InvariantCulture) : 32;
var loggers = NullLoggerFactory.Instance;
var limits = new LimitsOptions();
var media = new MediaOptions();
var instance = ModelInstanceFactory.Create(
    new ModelEntryOptions { Path = Path.GetFullPath(folder) },
    "Models:0",
    Directory.GetCurrentDirectory(),
    [new WorkerOptions()],
    new EngineOptions { MaxBatchSize = maxBatch },
    limits,
    media,
    new GenerationOptions(),
    FfmpegSupport.Detect(media, limits, loggers.CreateLogger("ffmpeg")),
    loggers);
await using (instance)
{
    if (await instance.WarmUp.RunAsync(CancellationToken.None) is { } failure)
    {
        Console.Error.WriteLine($"peerbench-inproc: warm-up failed: {failure}");
        return 1;
    }

    Console.WriteLine("ready");
    var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
    while (Console.ReadLine() is { } line)
    {
        var run = JsonSerializer.Deserialize<InProcessRun>(line, json)!;
        var byIndex = run.Requests.ToDictionary(r => r.Index);
        var runner = new LoadRunner((request, ct) => SendAsync(instance, byIndex[request.Index], ct));
        var requests = run.Requests.Select(r => new BenchRequest(r.Index, false, r.UserText, [])).ToList();
        var result = await runner.RunAsync(requests, run.Concurrency, run.Rate, run.Seed, CancellationToken.None);
        Console.WriteLine(JsonSerializer.Serialize(result, json));
    }
}

return 0;

// One greedy chat turn with EOS ignored, timed like a streaming client: TTFT to the first delta with tokens, a gap
// per token (a delta carrying k tokens adds its gap and k − 1 zeros, as k SSE chunks written at once would).
static async Task<RequestResult> SendAsync(ModelInstance instance, InProcessRequest request, CancellationToken ct)
{
    long sent = Stopwatch.GetTimestamp();
    var input = new GenerationInput
    {
        Model = instance.Id,
        Messages = [new InputMessage("user", [new InputPart.Text(request.UserText, "messages[0].content")], "messages[0]")],
        Sampling = new SamplingInput { Temperature = 0, MaxTokens = request.OutputTokens, IgnoreEos = true },
    };
    var (validated, refused) = instance.Validate(input);
    if (refused is not null)
    {
        return RequestResult.Failed(request.Index, false, refused.Message, Stopwatch.GetElapsedTime(sent).TotalSeconds);
    }

    var (session, error) = await instance.Generation.StartAsync(validated!, $"inproc-{request.Index}", ct);
    if (error is not null)
    {
        return RequestResult.Failed(request.Index, false, error.Message, Stopwatch.GetElapsedTime(sent).TotalSeconds);
    }

    double ttft = 0;
    long last = 0;
    var itls = new List<double>(request.OutputTokens);
    int tokens = 0, promptTokens = 0;
    await foreach (var item in session!.ReadEventsAsync(ct))
    {
        switch (item)
        {
            case TextDelta delta when delta.TokenIds.Count > 0:
                long now = Stopwatch.GetTimestamp();
                if (tokens == 0)
                {
                    ttft = Stopwatch.GetElapsedTime(sent, now).TotalSeconds;
                }
                else
                {
                    itls.Add(Stopwatch.GetElapsedTime(last, now).TotalSeconds);
                }

                itls.AddRange(Enumerable.Repeat(0.0, delta.TokenIds.Count - 1));
                tokens += delta.TokenIds.Count;
                last = now;
                break;
            case SessionFinished finished:
                promptTokens = finished.PromptTokens;
                break;
            case SessionFailed failed:
                return RequestResult.Failed(request.Index, false, failed.Error.Message, Stopwatch.GetElapsedTime(sent).TotalSeconds);
        }
    }

    return new RequestResult(request.Index, false, true, null, ttft, itls, Stopwatch.GetElapsedTime(sent).TotalSeconds, promptTokens, tokens);
}
