using System.Globalization;

namespace MmServe.StepBench;

/// <summary>StepBench's command line (see Program.cs for the flags).</summary>
internal sealed record StepOptions(
    string Bundle, int[] Batches, int Prompt, int Steps, int IntraOpThreads, int Rounds, string Device, string[] Forms, int[] Joins,
    string Mode = "executor", int Vocab = 0)
{
    public static StepOptions Parse(string[] args)
    {
        var o = new StepOptions("models/mmserve-tiny", [1, 4, 16], 30, 64, 0, 10, "cpu", ["concat", "gqa"], [1, 4]);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            o = args[i] switch
            {
                "--bundle" => o with { Bundle = v },
                "--batches" => o with { Batches = Ints(v) },
                "--prompt" => o with { Prompt = int.Parse(v, CultureInfo.InvariantCulture) },
                "--steps" => o with { Steps = int.Parse(v, CultureInfo.InvariantCulture) },
                "--intra-op-threads" => o with { IntraOpThreads = int.Parse(v, CultureInfo.InvariantCulture) },
                "--rounds" => o with { Rounds = int.Parse(v, CultureInfo.InvariantCulture) },
                "--device" => o with { Device = v },
                "--forms" => o with { Forms = v.Split(',', StringSplitOptions.RemoveEmptyEntries) },
                "--joins" => o with { Joins = v.Length == 0 ? [] : Ints(v) },
                "--mode" => v is "executor" or "constrained" or "mask" or "cross-attention" or "encoder-decoder" ? o with { Mode = v } : throw new ArgumentException($"--mode must be executor, constrained, mask, cross-attention or encoder-decoder, not {v}"),
                "--vocab" => o with { Vocab = int.Parse(v, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return o;
    }

    private static int[] Ints(string v) => [.. v.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
}
