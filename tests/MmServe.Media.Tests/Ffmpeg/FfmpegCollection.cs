namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>
/// All ffmpeg tests run one at a time and alone: the machine is small, and the "no ffmpeg child is left"
/// checks look at every child of this test process, so no other test may be starting ffmpeg meanwhile.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FfmpegCollection : ICollectionFixture<GeneratedMedia>
{
    public const string Name = "ffmpeg";
}
