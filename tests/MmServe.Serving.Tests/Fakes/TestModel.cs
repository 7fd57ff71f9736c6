using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MmServe.Serving.Generation;
using MmServe.Serving.Media;

namespace MmServe.Serving.Tests.Fakes;

/// <summary>
/// The bundled mmserve-tiny as the serving layer sees it (manifest, tokenizer, prompts and its real output
/// generators), loaded once for all tests; media policies are built per test.
/// </summary>
public static class TestModel
{
    private static readonly Lazy<ServedModel> LazyModel = new(() => new ServedModel(
        Options.Create(new ModelOptions { Path = TestPaths.Bundle }), new Environment()));

    private static readonly Lazy<MediaGenerator> LazyGenerator = new(() => MediaGeneratorFactory.Create(
        Model, new GenerationOptions(), new WorkerOptions(), NullLoggerFactory.Instance));

    public static ServedModel Model => LazyModel.Value;

    public static IMediaGenerator Generator => LazyGenerator.Value;

    /// <summary>Images, audio (wav, mp3) and video as mmserve-tiny's defaults allow, remote media off.</summary>
    public static MediaPolicy Policy(
        IReadOnlyDictionary<string, string>? unavailable = null, bool remote = false, int maxImages = 8, bool ffmpeg = true)
    {
        var maxItems = new Dictionary<string, int> { ["image"] = maxImages, ["audio"] = 4 };
        if (unavailable?.ContainsKey("video") != true)
        {
            maxItems["video"] = 2;
        }

        IReadOnlySet<string> formats = ffmpeg
            ? new HashSet<string>([.. AudioInputPreprocessor.InProcessFormats, .. AudioInputPreprocessor.FfmpegFormats])
            : new HashSet<string>(AudioInputPreprocessor.InProcessFormats);
        return new MediaPolicy(maxItems, unavailable ?? new Dictionary<string, string>(), formats, remote);
    }

    private sealed class Environment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";
        public string ApplicationName { get; set; } = "MmServe.Serving.Tests";
        public string ContentRootPath { get; set; } = TestPaths.RepoRoot;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
