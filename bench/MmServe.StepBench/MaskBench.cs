using MmServe.StepBench;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MmServe.Engine.Constraints;
using MmServe.Model.Bundle;

/// <summary>
/// --mode mask: the constrained decoder's own cost per token, without a model: sequences of --steps tokens are
/// decoded from random logits (argmax after the mask) under the typical schema, timing the mask and the cursor's
/// advance. --vocab N pads the bundle's vocabulary with N - size synthetic tokens (seeded random 2-8 byte ASCII
/// and UTF-8 pieces) to see how the cost grows with a production-sized vocabulary (Qwen2: 151k, Llama 3: 128k).
/// Pass 1 is cold (states and masks being built); later passes reuse them.
/// </summary>
internal static class MaskBench
{
    public static void Run(StepOptions options, ModelBundle bundle, int vocabSize)
    {
        var tokenizer = BundleLoader.LoadTokenizer(bundle);
        int[] eos = [.. bundle.Manifest.Tokenizer.EosTokens.Select(t => tokenizer.TokenToId(t)!.Value)];
        var bytes = Enumerable.Range(0, tokenizer.VocabSize).Select(tokenizer.TokenBytes).ToList();
        var random = new Random(7);
        var seen = new HashSet<string>(bytes.Select(Convert.ToBase64String));
        while (bytes.Count < vocabSize)
        {
            var piece = SyntheticPiece(random);
            if (seen.Add(Convert.ToBase64String(piece)))
            {
                bytes.Add(piece);
            }
        }

        var vocabulary = new TokenVocabulary(bytes, tokenizer.IsSpecial, eos);
        var clock = Stopwatch.StartNew();
        var constraint = new TokenConstraint(JsonSchemaGrammar.Compile(JsonDocument.Parse(ConstrainedStepBench.TypicalSchema).RootElement), vocabulary);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"vocabulary {vocabulary.Size} tokens ({vocabulary.NodeCount} tree nodes), schema compiled in {clock.Elapsed.TotalMilliseconds:F1} ms"));

        var logits = new float[vocabulary.Size];
        for (int pass = 1; pass <= 3; pass++)
        {
            double maskTicks = 0, advanceTicks = 0;
            int tokens = 0, sequences = 200;
            for (int s = 0; s < sequences; s++)
            {
                var cursor = new ConstraintCursor(constraint);
                for (int left = options.Steps; left >= 1; left--)
                {
                    for (int i = 0; i < logits.Length; i++)
                    {
                        logits[i] = random.NextSingle();
                    }

                    long start = Stopwatch.GetTimestamp();
                    cursor.Mask(logits, left);
                    long masked = Stopwatch.GetTimestamp();
                    int token = ArgMax(logits);
                    long picked = Stopwatch.GetTimestamp();
                    cursor.Advance(token);
                    advanceTicks += Stopwatch.GetTimestamp() - picked;
                    maskTicks += masked - start;
                    tokens++;
                    if (eos.Contains(token))
                    {
                        break;
                    }
                }
            }

            double perToken = 1e6 / Stopwatch.Frequency / tokens;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pass {pass}: {tokens} tokens of {sequences} outputs, mask {maskTicks * perToken,8:F2} us/token, advance {advanceTicks * perToken,6:F2} us/token; {constraint.StatesBuilt} automaton states"));
        }
    }

    private static byte[] SyntheticPiece(Random random)
    {
        const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:;\"{}[]éüßøåç日本語水火";
        var text = new StringBuilder();
        int length = random.Next(2, 9);
        while (Encoding.UTF8.GetByteCount(text.ToString()) < length)
        {
            text.Append(Letters[random.Next(Letters.Length)]);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
