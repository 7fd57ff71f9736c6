using Microsoft.Extensions.Logging.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Model.HuggingFace;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Runtime.Onnx.Tests.Execution;

/// <summary>
/// tiny-ultravox's audio_encoder.onnx through <see cref="UltravoxAudioEncoder"/>: one clip of any length gives as many
/// rows as UltravoxProcessor expands its placeholder to, and a session with another contract fails at load naming it.
/// </summary>
public sealed class UltravoxAudioEncoderTests
{
    private static readonly (ModelBundle Bundle, UltravoxConfig Config) Loaded = Load();

    private static readonly SessionFactory Sessions = new(new DeviceOptions("cpu", IntraOpThreads: 1), NullLogger.Instance);

    [Theory]
    [InlineData(16000)]
    [InlineData(16159)]
    [InlineData(16160)]
    [InlineData(480000)]
    public void A_clip_gives_the_processor_token_count_in_rows_of_the_hidden_size(int samples)
    {
        using var encoder = new UltravoxAudioEncoder(Loaded.Bundle, "audio", Sessions, 80, 64);
        int frames = samples / 160;

        var rows = encoder.Run(new float[80 * frames], CancellationToken.None);

        Assert.Equal(Loaded.Config.AudioTokens(samples) * 64, rows.Length);
        Assert.All(rows, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void A_session_with_another_contract_fails_at_load_naming_what_it_expected()
    {
        var error = Assert.Throws<BundleValidationException>(() => new UltravoxAudioEncoder(Loaded.Bundle, "embed", Sessions, 80, 64));

        Assert.Contains("'audio_values' [batch, 80, frames]", error.Message, StringComparison.Ordinal);
        Assert.Contains("input input_ids", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Features_that_are_not_whole_frames_are_refused()
    {
        using var encoder = new UltravoxAudioEncoder(Loaded.Bundle, "audio", Sessions, 80, 64);

        Assert.Throws<ArgumentException>(() => encoder.Run(new float[81], CancellationToken.None));
    }

    private static (ModelBundle, UltravoxConfig) Load()
    {
        var (bundle, _) = HfFolderLoader.Load(Path.Combine(TestPaths.RepoRoot, "models", "conformance", "tiny-ultravox"));
        return (bundle, bundle.HuggingFace!.Ultravox!);
    }
}
