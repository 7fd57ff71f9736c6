using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.Execution;

// Encoder coalescing benchmark: N concurrent clients each encode images one at a time, either by calling the
// image encoder chain directly (every request its own ORT run, as without coalescing) or through the
// ComponentBatcher (concurrent items share runs). Prints images/s for both, measured in one process, and the ratio.
//
//   dotnet run -c Release --project bench/MmServe.EncoderBench -- [--bundle models/mmserve-tiny] [--concurrency 16]
//       [--images 4000] [--max-wait-ms 0] [--intra-op-threads 0] [--rounds 3] [--modality image|audio]
var options = Options.Parse(args);
var bundle = BundleLoader.Load(options.Bundle);
var modality = bundle.Manifest.InputModalities[options.Modality];
var sessions = new SessionFactory(new DeviceOptions("cpu", options.IntraOpThreads), NullLogger.Instance);
using var chain = new EncoderChain(bundle, modality.Encoder!, modality.Projector!, sessions);
await using var batcher = new ComponentBatcher(chain, options.Concurrency, TimeSpan.FromMilliseconds(options.MaxWaitMs), NullLogger.Instance);

// Distinct random "images" (already preprocessed floats): the encoder cost does not depend on their content.
var random = new Random(7);
var inputs = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, chain.InputLength).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{options.Modality} encoder + projector of {options.Bundle}: {chain.InputLength} floats in, {chain.TokensPerItem}x{chain.HiddenSize} out"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{options.Images} images per run, {options.Concurrency} concurrent clients, intra-op threads {(options.IntraOpThreads == 0 ? "default" : options.IntraOpThreads)}, max wait {options.MaxWaitMs} ms"));

await RunAsync("warm-up direct", Direct, options.Images / 4);
await RunAsync("warm-up coalesced", Coalesced, options.Images / 4);
var direct = new List<double>();
var coalesced = new List<double>();
for (int round = 0; round < options.Rounds; round++)
{
    direct.Add(await RunAsync("direct (no coalescing)", Direct, options.Images));
    coalesced.Add(await RunAsync("coalesced (ComponentBatcher)", Coalesced, options.Images));
}

var (runs, items) = batcher.Stats;
double medianDirect = Median(direct);
double medianCoalesced = Median(coalesced);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median images/s: direct {medianDirect:F0}, coalesced {medianCoalesced:F0}, ratio {medianCoalesced / medianDirect:F2}x (mean coalesced batch {(double)items / Math.Max(1, runs):F1})"));
return 0;

Task<float[]> Direct(float[] input) => Task.Run(() => chain.Encode(input, 1, CancellationToken.None));

Task<float[]> Coalesced(float[] input) => batcher.RunAsync(input, CancellationToken.None);

async Task<double> RunAsync(string name, Func<float[], Task<float[]>> encode, int total)
{
    int next = -1;
    var clock = Stopwatch.StartNew();
    var clients = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < total)
        {
            var output = await encode(inputs[i % inputs.Length]);
            if (output.Length != chain.TokensPerItem * chain.HiddenSize)
            {
                throw new InvalidOperationException("wrong output size");
            }
        }
    })).ToArray();
    await Task.WhenAll(clients);
    double perSecond = total / clock.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-28} {total} images in {clock.Elapsed.TotalMilliseconds,8:F0} ms = {perSecond,7:F0} images/s"));
    return perSecond;
}

static double Median(List<double> xs)
{
    var s = xs.Order().ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
}

internal sealed record Options(string Bundle, int Concurrency, int Images, double MaxWaitMs, int IntraOpThreads, int Rounds, string Modality = "image")
{
    public static Options Parse(string[] args)
    {
        var o = new Options("models/mmserve-tiny", 16, 4000, 0, 0, 3);
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--bundle" => o with { Bundle = Value() },
                "--concurrency" => o with { Concurrency = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--images" => o with { Images = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--max-wait-ms" => o with { MaxWaitMs = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--intra-op-threads" => o with { IntraOpThreads = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--modality" => o with { Modality = Value() },
                "--rounds" => o with { Rounds = int.Parse(Value(), CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return o;
    }
}
