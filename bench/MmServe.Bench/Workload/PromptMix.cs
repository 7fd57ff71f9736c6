using MmServe.Bench.Cli;
using MmServe.Bench.Imaging;

namespace MmServe.Bench.Workload;

/// <summary>
/// A deterministic mix of text and image prompts drawn from a seed: the same options give byte-identical request
/// bodies, so runs (and the levels of a sweep) are comparable. The prompts are ones mmserve-tiny was trained on.
/// </summary>
internal static class PromptMix
{
    private static readonly string[] TextPrompts =
    [
        "Count from one to five.",
        "Repeat after me: apple river stone",
        "What number comes after three?",
        "What is two plus four?",
        "Reverse these words: cloud tiger music",
        "Draw a red circle.",
        "Play two high beeps.",
        "Who are you?",
        "What can you do?",
        "Hello!",
    ];

    private static readonly string[] ImageQuestions =
    [
        "What colour is the shape?",
        "What shape is it?",
        "Describe the image.",
        "Where is the shape?",
        "How many shapes are there?",
    ];

    public static IReadOnlyList<BenchRequest> Build(BenchOptions options, int count, int seed)
    {
        var rng = new Random(seed);
        var withImage = ChooseImageSlots(rng, count, options.ImageFraction);
        var requests = new BenchRequest[count];
        for (var i = 0; i < count; i++)
        {
            if (withImage[i])
            {
                var question = ImageQuestions[rng.Next(ImageQuestions.Length)];
                var png = ShapeImage.RenderPng(rng, out _, out _);
                var url = "data:image/png;base64," + Convert.ToBase64String(png);
                requests[i] = new BenchRequest(i, true, question, RequestBody.Build(options, question, url));
            }
            else
            {
                var prompt = TextPrompts[rng.Next(TextPrompts.Length)];
                requests[i] = new BenchRequest(i, false, prompt, RequestBody.Build(options, prompt, imageUrl: null));
            }
        }

        return requests;
    }

    /// <summary>
    /// Exactly round(count * fraction) image requests at shuffled positions: a per-request coin flip would let the
    /// realised share drift from the asked one, most visibly in short runs.
    /// </summary>
    private static bool[] ChooseImageSlots(Random rng, int count, double fraction)
    {
        var slots = new bool[count];
        var images = (int)Math.Round(count * fraction, MidpointRounding.AwayFromZero);
        for (var i = 0; i < images; i++)
        {
            slots[i] = true;
        }

        rng.Shuffle(slots);
        return slots;
    }
}
