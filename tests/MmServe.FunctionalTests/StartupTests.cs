using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>A bad configuration or bundle stops the server at start with a message naming the culprit.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("Model:Path", "/no/such/bundle", "Model:Path")]
    [InlineData("Engine:MaxQueuedRequests", "0", "Engine:MaxQueuedRequests")]
    [InlineData("Workers:0:Device", "tpu", "Workers:0:Device")]
    [InlineData("Workers:0:ArenaExtendStrategy", "kSometimes", "Workers:0:ArenaExtendStrategy 'kSometimes' is not one of SameAsRequested, NextPowerOfTwo")]
    [InlineData("Workers:0:CudnnConvAlgoSearch", "fast", "Workers:0:CudnnConvAlgoSearch 'fast' is not one of Exhaustive, Heuristic, Default")]
    [InlineData("Workers:0:GpuMemLimitMb", "-1", "Workers:0:GpuMemLimitMb must be 0")]
    [InlineData("Limits:Image:MaxWidth", "0", "Limits:Image:MaxWidth")]
    [InlineData("Limits:MaxImagesPerRequest", "many", "Limits:MaxImagesPerRequest")]
    [InlineData("Model:DecoderVariant", "paged", "Model:DecoderVariant 'paged': ")]
    public async Task BadSetting_FailsStartNamingTheKey(string key, string value, string expected)
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?> { [key] = value });
        var error = Assert.ThrowsAny<Exception>(factory.StartServer);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADecoderVariantForAHuggingFaceExport_FailsStartNamingTheKey()
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Model:Path"] = ConformanceGolden.ModelPath("tiny-qwen2"),
            ["Model:DecoderVariant"] = "gqa",
        });
        var error = Assert.ThrowsAny<Exception>(factory.StartServer);
        Assert.Contains("Model:DecoderVariant 'gqa' applies to MmServe bundles only", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedBundle_FailsStartWithTheLoadersMessage()
    {
        var dir = Directory.CreateTempSubdirectory("mmserve-bad-bundle");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "manifest.json"), "{\"format\": \"mmserve.bundle/v1\", \"id\": \"x\"}");
            await using var factory = new MmServeFactory(new Dictionary<string, string?> { ["Model:Path"] = dir.FullName });
            var error = Assert.ThrowsAny<Exception>(factory.StartServer);
            Assert.Contains("manifest.json", error.Message, StringComparison.Ordinal);
            Assert.Contains("max_context", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
