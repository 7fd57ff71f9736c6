using System.Net;
using System.Text.Json;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Families;

/// <summary>
/// One server with three models ("Models" list): tiny-cogvlm (visual expert: token_type_ids, CogVLM2 positions),
/// tiny-imagebind (depth and IMU tensors as input_tensor parts) and mmserve-tiny. Over HTTP every golden case of the two
/// family bundles reproduces PyTorch's greedy tokens alone, and all of them in flight at once together with
/// mmserve-tiny's text-and-image cases, which must not change any model's tokens.
/// </summary>
public sealed class VisualExpertTensorGoldenTests(VisualExpertTensorServerFixture server) : IClassFixture<VisualExpertTensorServerFixture>
{
    public static TheoryData<string, string> CaseIds
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var model in VisualExpertTensorServerFixture.FamilyModels)
            {
                foreach (var c in FamilyGolden.Load(model))
                {
                    data.Add(model, c.Id);
                }
            }

            return data;
        }
    }

    [Theory]
    [InlineData("tiny-cogvlm")]
    [InlineData("tiny-imagebind")]
    public void EachBundle_HasAtLeast30GoldenCases(string model) => Assert.True(FamilyGolden.Load(model).Count >= 30);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task GoldenCase_Alone_MatchesReferenceTokens(string model, string id)
    {
        var golden = FamilyGolden.Load(model).Single(c => c.Id == id);
        using var response = await Chat.PostAsync(server.Client, golden.ToRequest());
        Assert.Null(await MismatchAsync(golden, response));
    }

    [Fact]
    public async Task EveryGoldenCase_OfBothFamilies_AndMmserveTiny_InFlightAtOnce_MatchReferenceTokens()
    {
        var cases = VisualExpertTensorServerFixture.FamilyModels.SelectMany(m => FamilyGolden.Load(m)).Concat(GoldenCases.TextAndImage).ToList();
        var responses = await Task.WhenAll(cases.Select(c => Chat.PostAsync(server.Client, c.ToRequest())));
        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            using var response = responses[i];
            if (await MismatchAsync(cases[i], response) is { } problem)
            {
                failures.Add(problem);
            }
        }

        Assert.True(cases.Count >= 90, $"only {cases.Count} cases");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Null when the response carries the golden prompt and completion ids and text.</summary>
    internal static async Task<string?> MismatchAsync(GoldenCase golden, HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return $"{golden.Model}/{golden.Id}: {(int)response.StatusCode} {body}";
        }

        var root = JsonDocument.Parse(body).RootElement;
        var choice = root.GetProperty("choices")[0];
        var prompt = Chat.Ints(root.GetProperty("prompt_token_ids"));
        var completion = Chat.Ints(choice.GetProperty("token_ids"));
        var text = choice.GetProperty("message").GetProperty("content").GetString();
        return prompt.SequenceEqual(golden.PromptTokenIds) && completion.SequenceEqual(golden.CompletionTokenIds) && text == golden.CompletionText
            ? null
            : $"{golden.Model}/{golden.Id}: prompt {(prompt.SequenceEqual(golden.PromptTokenIds) ? "ok" : "differs")}, "
              + $"completion [{string.Join(",", completion)}] '{text}', expected [{string.Join(",", golden.CompletionTokenIds)}] '{golden.CompletionText}'";
    }
}

/// <summary>tiny-cogvlm, tiny-imagebind and mmserve-tiny (under its usual id) in one process.</summary>
public sealed class VisualExpertTensorServerFixture() : ServerFixture(new Dictionary<string, string?>
{
    ["Model:Path"] = null,
    ["Models:0:Id"] = "tiny-cogvlm",
    ["Models:0:Path"] = FamilyBundles.Path("tiny-cogvlm"),
    ["Models:1:Id"] = "tiny-imagebind",
    ["Models:1:Path"] = FamilyBundles.Path("tiny-imagebind"),
    ["Models:2:Id"] = Chat.Model,
    ["Models:2:Path"] = TestPaths.Bundle,
    ["Limits:MaxImagesPerRequest"] = "4",
})
{
    public static readonly string[] FamilyModels = ["tiny-cogvlm", "tiny-imagebind"];
}
