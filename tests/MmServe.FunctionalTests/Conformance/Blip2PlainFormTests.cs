using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// The plain BLIP-2 form of tiny-blip2 is a manifest choice: the image modality names the component
/// image_projector_plain (the same Q-Former without instruction tokens) and drops "instruction". Served that way,
/// the server feeds the projector no text, and the golden cases of that form (golden/plain_cases.json) match.
/// </summary>
public sealed class Blip2PlainFormTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mmserve-blip2-plain-" + Guid.NewGuid().ToString("N"));
    private MmServeFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        ModelFolderCopy.CopyDirectory(FamilyBundles.Path(FamilyBundles.Blip2), _folder);
        ModelFolderCopy.EditJson(Path.Combine(_folder, "manifest.json"), manifest =>
        {
            var image = manifest["input_modalities"]!["image"]!.AsObject();
            image["projector"] = "image_projector_plain";
            image.Remove("instruction");
        });
        _factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Model:Path"] = _folder,
            ["Model:Id"] = FamilyBundles.Blip2,
            ["Limits:MaxRequestBodyBytes"] = (8 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await _factory.StartAndWaitReadyAsync();
        _client = _factory.CreateHttpClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task PlainForm_GoldenCases_MatchPyTorch_AllInFlight()
    {
        var cases = GoldenCases.Read(FamilyBundles.Golden(FamilyBundles.Blip2), "plain_cases.json");
        Assert.NotEmpty(cases);
        var failures = (await Task.WhenAll(cases.Select(c => FamilyGoldenParityTests.ChatAsync(_client, FamilyBundles.Blip2, c)))).OfType<string>().ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
