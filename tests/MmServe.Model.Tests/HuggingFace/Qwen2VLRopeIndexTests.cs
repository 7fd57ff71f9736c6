using System.Text.Json;
using MmServe.Model.HuggingFace;

namespace MmServe.Model.Tests.HuggingFace;

/// <summary>
/// <see cref="Qwen2VLRopeIndex"/> against the position_ids and rope_delta transformers.js computed for the 22
/// tiny-qwen2-vl goldens (images, videos, two media per message, follow-up turns, text only; the text-only delta with
/// the oracle's fix, see tools/conformance-models/README-part2.md).
/// </summary>
public sealed class Qwen2VLRopeIndexTests
{
    private const int ImagePad = 1768;
    private const int VideoPad = 1769;

    private static readonly string Golden = new[]
    {
        Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "goldens", "tiny-qwen2-vl.json"),
        Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "pending", "goldens", "tiny-qwen2-vl.json"),
    }.First(File.Exists);

    public static TheoryData<string> CaseIds
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var c in Cases())
            {
                data.Add(c.GetProperty("id").GetString()!);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Positions_and_rope_delta_equal_transformers_js(string id)
    {
        var c = Cases().Single(c => c.GetProperty("id").GetString() == id);
        int[] prompt = [.. c.GetProperty("prompt_ids").EnumerateArray().Select(v => v.GetInt32())];
        var grids = new List<VisionGrid>();
        int index = 0;
        foreach (var medium in c.GetProperty("media").EnumerateArray())
        {
            int pad = medium.GetProperty("type").GetString() == "video" ? VideoPad : ImagePad;
            int[] thw = [.. medium.GetProperty("grid_thw").EnumerateArray().Select(v => v.GetInt32())];
            while (prompt[index] != pad)
            {
                index++;
            }

            int start = index;
            while (index < prompt.Length && prompt[index] == pad)
            {
                index++;
            }

            Assert.Equal(medium.GetProperty("tokens").GetInt32(), index - start);
            grids.Add(new VisionGrid(start, index - start, thw[0], thw[1], thw[2]));
        }

        var positions = Qwen2VLRopeIndex.Compute(prompt.Length, grids, mergeSize: 2);

        var expected = c.GetProperty("position_ids");
        for (int axis = 0; axis < 3; axis++)
        {
            long[] row = [.. expected[axis].EnumerateArray().Select(v => v.GetInt64())];
            Assert.Equal(row, positions.Prompt(axis).ToArray());
        }

        Assert.Equal(c.GetProperty("rope_delta").GetInt64(), positions.Delta);
    }

    [Fact]
    public void A_grid_that_does_not_match_its_run_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Qwen2VLRopeIndex.Compute(10, [new VisionGrid(2, 4, 1, 4, 6)], 2));
        Assert.Throws<ArgumentException>(() => Qwen2VLRopeIndex.Compute(5, [new VisionGrid(2, 4, 1, 4, 4)], 2));
    }

    private static IEnumerable<JsonElement> Cases() =>
        JsonDocument.Parse(File.ReadAllBytes(Golden)).RootElement.GetProperty("cases").EnumerateArray();
}
