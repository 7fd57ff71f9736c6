using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Media.Images;
using MmServe.Media.Images.HuggingFace;
using MmServe.Model.Bundle;
using MmServe.Model.HuggingFace;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// The tiny-qwen2-vl conformance model below the server: Qwen2VLImageProcessor → vision encoder → embeddings spliced at
/// the &lt;|image_pad|&gt; / &lt;|video_pad|&gt; runs of the golden prompt ids → the executor with M-RoPE positions from
/// <see cref="Qwen2VLRopeIndex"/> (prefill) and past length + rope_delta (decode). Greedy ids must equal
/// transformers.js's for all 22 cases, each alone and all in one continuously changing batch.
/// </summary>
public sealed class Qwen2VLExecutorGoldenTests : IClassFixture<Qwen2VLExecutorGoldenTests.Model>
{
    private readonly Model _model;

    public Qwen2VLExecutorGoldenTests(Model model) => _model = model;

    [Fact]
    public void Every_case_alone_matches_transformers_js()
    {
        foreach (var c in _model.Cases)
        {
            using var executor = _model.NewExecutor();
            var output = Greedy(executor, [c], [0])[0];
            Assert.True(c.OutputIds.SequenceEqual(output), $"{c.Id}: expected [{string.Join(",", c.OutputIds)}] got [{string.Join(",", output)}]");
        }
    }

    [Fact]
    public void All_cases_in_one_changing_batch_match_transformers_js()
    {
        using var executor = _model.NewExecutor();
        var joins = _model.Cases.Select((_, i) => i % 4 == 0 ? 0 : i / 2).ToArray();
        var outputs = Greedy(executor, _model.Cases, joins);
        for (int i = 0; i < _model.Cases.Count; i++)
        {
            var c = _model.Cases[i];
            Assert.True(c.OutputIds.SequenceEqual(outputs[i]), $"{c.Id} in a batch: expected [{string.Join(",", c.OutputIds)}] got [{string.Join(",", outputs[i])}]");
        }

        Assert.Equal(0, executor.HeldSequences);
    }

    [Fact]
    public void Text_only_prompts_need_no_positions()
    {
        // rope_delta is 0 without media: the index on all three axes is what M-RoPE gives.
        using var executor = _model.NewExecutor();
        var textOnly = _model.Cases.Where(c => c.Media.Count == 0).Select(c => c with { Positions = null }).ToList();
        Assert.NotEmpty(textOnly);
        var outputs = Greedy(executor, textOnly, new int[textOnly.Count]);
        for (int i = 0; i < textOnly.Count; i++)
        {
            Assert.Equal(textOnly[i].OutputIds, outputs[i]);
        }
    }

    private static List<int>[] Greedy(OnnxModelExecutor executor, IReadOnlyList<Case> cases, int[] joinStep)
    {
        var outputs = cases.Select(_ => new List<int>()).ToArray();
        var done = new bool[cases.Count];
        var output = new ForwardOutput();
        for (int step = 0; done.Contains(false); step++)
        {
            var rows = new List<int>();
            var inputs = new List<SequenceInput>();
            for (int i = 0; i < cases.Count; i++)
            {
                if (done[i] || joinStep[i] > step)
                {
                    continue;
                }

                var c = cases[i];
                rows.Add(i);
                inputs.Add(outputs[i].Count == 0
                    ? new SequenceInput(i, c.PromptIds, 0, c.Media) { Positions = c.Positions }
                    : new SequenceInput(i, new[] { outputs[i][^1] }, c.PromptIds.Length + outputs[i].Count - 1, []) { Positions = c.Positions });
            }

            if (inputs.Count == 0)
            {
                continue;
            }

            output.Prepare(inputs, executor.Info.VocabSize, executor.Info.HiddenSize);
            executor.Forward(inputs, output, CancellationToken.None);
            for (int r = 0; r < rows.Count; r++)
            {
                int i = rows[r];
                var logits = output.GetLogits(r);
                int best = GreedyLoop.ArgMax(logits);

                outputs[i].Add(best);
                if (Model.EosIds.Contains(best) || outputs[i].Count >= Model.MaxNewTokens)
                {
                    done[i] = true;
                    executor.Release(i);
                }
            }

            Assert.True(step < 10_000, "decode loop did not terminate");
        }

        return outputs;
    }

    public sealed record Case(string Id, int[] PromptIds, IReadOnlyList<MediaEmbedding> Media, SequencePositions? Positions, int[] OutputIds);

    /// <summary>The model folder, its sessions and the 22 cases with their media encoded, loaded once.</summary>
    public sealed class Model : IDisposable
    {
        public const int MaxNewTokens = 16;
        public static readonly IReadOnlySet<int> EosIds = new HashSet<int> { 1758, 1756 };

        private static readonly string ConformanceRoot = Path.Combine(TestPaths.RepoRoot, "tests", "conformance");

        public Model()
        {
            (Bundle, _) = HfFolderLoader.Load(Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-qwen2-vl"));
            var qwen = Bundle.HuggingFace!.Qwen2VL!;
            Sessions = new SessionFactory(new DeviceOptions("cpu", IntraOpThreads: 1), NullLogger.Instance);
            Embed = Sessions.Create(Bundle.ComponentPath(Bundle.Manifest.Embedding!.Component));
            Decoder = Sessions.Create(Bundle.ComponentPath(Bundle.Manifest.Decoder.Component));
            var preprocessing = Bundle.Manifest.InputModalities["image"].Preprocessing;
            var processor = new Qwen2VLImageProcessor(Qwen2VLImageProcessorConfig.Parse(File.ReadAllBytes(preprocessing.ConfigFile!)));
            using var vision = new Qwen2VLVisionEncoder(
                Bundle, "vision", Sessions, processor.Config.PatchDimension, qwen.SpatialMergeSize, Bundle.Manifest.Decoder.HiddenSize);
            var golden = new[]
            {
                Path.Combine(ConformanceRoot, "goldens", "tiny-qwen2-vl.json"),
                Path.Combine(ConformanceRoot, "pending", "goldens", "tiny-qwen2-vl.json"),
            }.First(File.Exists);
            using var doc = JsonDocument.Parse(File.ReadAllBytes(golden));
            var decoder = new SafeImageDecoder(new ImageLimits());
            Cases = [.. doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => Load(c, processor, vision, decoder, qwen))];
        }

        public ModelBundle Bundle { get; }

        public SessionFactory Sessions { get; }

        public InferenceSession Embed { get; }

        public InferenceSession Decoder { get; }

        public IReadOnlyList<Case> Cases { get; }

        public OnnxModelExecutor NewExecutor(int maxBatch = 32) => new(Bundle, Embed, Decoder, maxBatch, ownsSessions: false);

        public void Dispose()
        {
            Embed.Dispose();
            Decoder.Dispose();
        }

        private static Case Load(JsonElement c, Qwen2VLImageProcessor processor, Qwen2VLVisionEncoder vision, SafeImageDecoder decoder, Qwen2VLConfig qwen)
        {
            int[] prompt = [.. c.GetProperty("prompt_ids").EnumerateArray().Select(v => v.GetInt32())];
            var media = new List<MediaEmbedding>();
            var grids = new List<VisionGrid>();
            int index = 0;
            foreach (var medium in c.GetProperty("media").EnumerateArray())
            {
                bool video = medium.GetProperty("type").GetString() == "video";
                var pixels = video
                    ? processor.ProcessVideo([.. medium.GetProperty("frames").EnumerateArray().Select(f => Decode(decoder, f.GetString()!))])
                    : processor.ProcessImage(Decode(decoder, medium.GetProperty("path").GetString()!));
                var features = vision.Run(pixels.Data, [(pixels.GridT, pixels.GridH, pixels.GridW)], CancellationToken.None);
                int pad = video ? qwen.VideoTokenId : qwen.ImageTokenId;
                while (prompt[index] != pad)
                {
                    index++;
                }

                int start = index;
                while (index < prompt.Length && prompt[index] == pad)
                {
                    index++;
                }

                Assert.Equal(pixels.TokenCount, index - start);
                media.Add(new MediaEmbedding(start, index - start, features));
                grids.Add(new VisionGrid(start, index - start, pixels.GridT, pixels.GridH, pixels.GridW));
            }

            return new Case(
                c.GetProperty("id").GetString()!,
                prompt,
                media,
                Qwen2VLRopeIndex.Compute(prompt.Length, grids, qwen.SpatialMergeSize),
                [.. c.GetProperty("output_ids").EnumerateArray().Select(v => v.GetInt32())]);
        }

        private static RgbImage Decode(SafeImageDecoder decoder, string relative)
        {
            var result = decoder.Decode(File.ReadAllBytes(Path.Combine(ConformanceRoot, relative)), new ImageDecodeOptions());
            Assert.True(result.IsSuccess, result.ToString());
            return result.Value;
        }
    }
}
