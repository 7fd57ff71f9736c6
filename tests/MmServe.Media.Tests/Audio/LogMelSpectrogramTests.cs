using System.Text.Json;
using MmServe.Media.Audio;

namespace MmServe.Media.Tests.Audio;

/// <summary>
/// WAV decoding + log-mel reproduce the reference recipe's features (golden/preprocessing, kind "log_mel")
/// within the index's 1e-4, and the spec's shape rules hold.
/// </summary>
public sealed class LogMelSpectrogramTests
{
    private const float Tolerance = 1e-4f;

    private static readonly LogMelSpectrogram Tiny = new(new LogMelSpec());

    public static TheoryData<string, string> LogMelEntries()
    {
        var data = new TheoryData<string, string>();
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Golden, "preprocessing", "index.json")));
        foreach (var entry in index.RootElement.GetProperty("entries").EnumerateArray())
        {
            if (entry.GetProperty("kind").GetString() == "log_mel")
            {
                data.Add(entry.GetProperty("input").GetString()!, entry.GetProperty("expected").GetString()!);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LogMelEntries))]
    public void Golden_wav_gives_the_reference_log_mel(string input, string expected)
    {
        string dir = Path.Combine(TestPaths.Golden, "preprocessing");
        var decoded = new WavDecoder().Decode(File.ReadAllBytes(Path.Combine(dir, input)));
        Assert.True(decoded.IsSuccess, decoded.Error?.Message);

        var spectrogram = new LogMelSpectrogram(ManifestSpec());
        var features = spectrogram.Compute(decoded.Value.Samples.Span);
        var (shape, values) = GoldenLogMel.Read(Path.Combine(dir, expected));

        Assert.Equal(new long[] { 1, spectrogram.MelCount, spectrogram.FrameCount }, shape);
        Assert.Equal(values.Length, features.Length);
        float worst = 0;
        for (int i = 0; i < features.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(features[i] - values[i]));
        }

        Assert.True(worst <= Tolerance, $"{input}: max |diff| {worst} > {Tolerance}");
    }

    [Fact]
    public void Golden_wav_through_the_preprocessor_matches_too()
    {
        string dir = Path.Combine(TestPaths.Golden, "preprocessing");
        var features = new AudioPreprocessor(ManifestSpec()).Preprocess(File.ReadAllBytes(Path.Combine(dir, "audio_0.wav")));
        var reference = GoldenLogMel.Read(Path.Combine(dir, "audio_0.log_mel.npy")).Values;

        Assert.True(features.IsSuccess, features.Error?.Message);
        Assert.Equal(reference.Length, features.Value.Length);
        Assert.All(features.Value.Zip(reference), pair => Assert.Equal(pair.Second, pair.First, Tolerance));
    }

    [Fact]
    public void Default_spec_is_mmserve_tiny_with_198_frames()
    {
        Assert.Equal(32000, Tiny.Spec.ClipSamples);
        Assert.Equal(198, Tiny.FrameCount);
        Assert.Equal(40 * 198, Tiny.OutputLength);
    }

    [Fact]
    public void Silence_and_empty_input_give_ln_of_the_offset()
    {
        float expected = (float)Math.Log(1e-6);

        Assert.All(Tiny.Compute(new float[32000]), value => Assert.Equal(expected, value));
        Assert.All(Tiny.Compute([]), value => Assert.Equal(expected, value));
    }

    [Fact]
    public void Input_is_padded_with_zeros_and_cut_to_the_clip()
    {
        var random = new Random(5);
        var clip = Enumerable.Range(0, 32000).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        float[] longer = [.. clip, .. Enumerable.Repeat(0.9f, 5000)];
        float[] padded = [.. clip[..1000], .. new float[31000]];

        Assert.Equal(Tiny.Compute(clip), Tiny.Compute(longer));
        Assert.Equal(Tiny.Compute(padded), Tiny.Compute(clip.AsSpan(0, 1000)));
    }

    [Fact]
    public void Tone_energy_lands_in_the_mel_band_that_contains_it()
    {
        var features = Tiny.Compute(ResamplerTests.Tone(1000, 16000, seconds: 2.0, amplitude: 0.5));

        // HTK mel edges for 40 bands over 0..8 kHz: the band centred nearest 1 kHz wins in every frame.
        int frames = Tiny.FrameCount;
        int loudest = Enumerable.Range(0, 40).MaxBy(m => features[(m * frames) + 100]);
        double centreHz = 700 * (Math.Pow(10, ((loudest + 1) * 2595 * Math.Log10(1 + (8000 / 700.0)) / 41) / 2595) - 1);
        Assert.InRange(centreHz, 900, 1100);
    }

    [Fact]
    public void Destination_must_hold_the_whole_output()
    {
        Assert.Throws<ArgumentException>(() => Tiny.Compute([], new float[Tiny.OutputLength - 1]));
    }

    [Fact]
    public void Unsupported_spec_variants_are_rejected_at_construction()
    {
        var valid = new LogMelSpec();
        LogMelSpec[] invalid =
        [
            valid with { WinLength = 256 },
            valid with { Window = "hann" },
            valid with { Center = true },
            valid with { MelScale = "slaney" },
            valid with { MelNorm = "slaney" },
            valid with { Power = 1.0 },
            valid with { Log = "log10" },
            valid with { LogOffset = 0 },
            valid with { FMax = 9000 },
            valid with { FMin = 8000 },
            valid with { NMels = 0 },
            valid with { HopLength = 0 },
            valid with { NFft = 1 },
            valid with { NFft = 4096, WinLength = 4096 },
            valid with { ClipSeconds = 0.01 },
            valid with { ClipSeconds = double.NaN },
            valid with { SampleRate = 0 },
        ];

        foreach (var spec in invalid)
        {
            Assert.Throws<ArgumentException>(() => new LogMelSpectrogram(spec));
        }
    }

    /// <summary>The audio preprocessing section of the bundled manifest.</summary>
    internal static LogMelSpec ManifestSpec()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Bundle, "manifest.json")));
        var p = manifest.RootElement.GetProperty("input_modalities").GetProperty("audio").GetProperty("preprocessing");
        Assert.Equal("log_mel", p.GetProperty("kind").GetString());
        return new LogMelSpec
        {
            SampleRate = p.GetProperty("sample_rate").GetInt32(),
            ClipSeconds = p.GetProperty("clip_seconds").GetDouble(),
            NFft = p.GetProperty("n_fft").GetInt32(),
            WinLength = p.GetProperty("win_length").GetInt32(),
            HopLength = p.GetProperty("hop_length").GetInt32(),
            Window = p.GetProperty("window").GetString()!,
            Center = p.GetProperty("center").GetBoolean(),
            NMels = p.GetProperty("n_mels").GetInt32(),
            FMin = p.GetProperty("f_min").GetDouble(),
            FMax = p.GetProperty("f_max").GetDouble(),
            MelScale = p.GetProperty("mel_scale").GetString()!,
            MelNorm = p.GetProperty("mel_norm").GetString(),
            Power = p.GetProperty("power").GetDouble(),
            Log = p.GetProperty("log").GetString()!,
            LogOffset = p.GetProperty("log_offset").GetDouble(),
        };
    }
}
