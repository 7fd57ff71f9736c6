using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// Every architecture family on one server ("Models" list): mmserve-tiny (token injection), tiny-blip2 (instruction-aware
/// Q-Former), tiny-fuyu (encoder-free patches with row breaks), tiny-flamingo (gated cross-attention), tiny-cogvlm (visual
/// expert) and tiny-imagebind (tensor modalities). All their golden cases in flight at once must give PyTorch's greedy
/// tokens: serving the families side by side changes no model's output. Each family's own tests cover its cases alone.
/// </summary>
public sealed class AllFamiliesInFlightTests
{
    public static readonly string[] Families = ["tiny-blip2", "tiny-fuyu", "tiny-flamingo", "tiny-cogvlm", "tiny-imagebind"];

    [Fact]
    public async Task Every_golden_case_of_every_family_in_flight_at_once_matches_the_reference()
    {
        await using var factory = new MmServeFactory(FamilyServing.ServerSettings(Families));
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        client.Timeout = TimeSpan.FromMinutes(5);

        var cases = Families.SelectMany(f => FamilyGolden.Load(f)).Concat(GoldenCases.TextAndImage).ToList();
        Assert.All(Families, f => Assert.True(FamilyGolden.Load(f).Count >= 30, $"{f}: fewer than 30 golden cases"));
        var responses = await Task.WhenAll(cases.Select(c => Chat.PostAsync(client, c.ToRequest())));
        for (int i = 0; i < cases.Count; i++)
        {
            using var response = responses[i];
            await GoldenParityTestsBase.AssertMatchesAsync(cases[i], response);
        }
    }
}
