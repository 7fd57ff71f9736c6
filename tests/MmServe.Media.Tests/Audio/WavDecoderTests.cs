using MmServe.Media.Audio;

namespace MmServe.Media.Tests.Audio;

/// <summary>Well-formed WAV files in every supported encoding decode to the expected mono samples.</summary>
public sealed class WavDecoderTests
{
    private readonly WavDecoder _decoder = new();

    [Fact]
    public void Pcm16_mono_decodes_as_int16_over_32768()
    {
        short[] pcm = [0, 1, -1, 16384, short.MaxValue, short.MinValue];
        var audio = Decode(new WavBuilder { Data = WavBuilder.Pcm16(pcm) });

        Assert.Equal(16000, audio.SampleRate);
        Assert.Equal(1, audio.SourceChannels);
        Assert.Equal(pcm.Select(s => s / 32768f), audio.Samples.ToArray());
    }

    [Fact]
    public void Pcm8_is_unsigned_with_128_as_silence_and_odd_data_is_padded()
    {
        var audio = Decode(new WavBuilder { BitsPerSample = 8, Data = [128, 0, 255] });

        Assert.Equal([0f, -1f, 127 / 128f], audio.Samples.ToArray());
    }

    [Fact]
    public void Pcm24_stereo_round_trips_and_averages_the_channels()
    {
        // Left, right pairs, including the extremes and a negative value that needs sign extension.
        int[] interleaved = [8388607, -8388608, -1, -1, 4194304, 0, -123456, 123456];
        var audio = Decode(new WavBuilder { Channels = 2, BitsPerSample = 24, SampleRate = 48000, Data = WavBuilder.Pcm24(interleaved) });

        Assert.Equal(48000, audio.SampleRate);
        Assert.Equal(2, audio.SourceChannels);
        float[] expected = [.. Enumerable.Range(0, 4).Select(i => ((interleaved[2 * i] / 8388608f) + (interleaved[(2 * i) + 1] / 8388608f)) / 2)];
        Assert.Equal(expected, audio.Samples.ToArray());
        Assert.Equal(-1f / 8388608f, audio.Samples.Span[1]);
    }

    [Fact]
    public void Pcm32_decodes_as_int32_over_2pow31()
    {
        var audio = Decode(new WavBuilder { BitsPerSample = 32, Data = WavBuilder.Pcm32([int.MinValue, 1 << 30, 0]) });

        Assert.Equal([-1f, 0.5f, 0f], audio.Samples.ToArray());
    }

    [Fact]
    public void Float32_stereo_round_trips_and_averages_the_channels()
    {
        var random = new Random(3);
        float[] interleaved = [.. Enumerable.Range(0, 2000).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        var audio = Decode(new WavBuilder { FormatTag = 3, Channels = 2, BitsPerSample = 32, SampleRate = 44100, Data = WavBuilder.Float32(interleaved) });

        Assert.Equal(44100, audio.SampleRate);
        Assert.Equal(1000, audio.Samples.Length);
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal((interleaved[2 * i] + interleaved[(2 * i) + 1]) / 2, audio.Samples.Span[i]);
        }
    }

    [Fact]
    public void Float32_mono_is_bit_exact()
    {
        float[] samples = [0.25f, -0.999f, 1e-9f, 0f];
        var audio = Decode(new WavBuilder { FormatTag = 3, BitsPerSample = 32, Data = WavBuilder.Float32(samples) });

        Assert.Equal(samples, audio.Samples.ToArray());
    }

    [Fact]
    public void Float64_decodes_and_clips_overs_to_full_scale()
    {
        var audio = Decode(new WavBuilder { FormatTag = 3, BitsPerSample = 64, Data = WavBuilder.Float64([0.5, -0.125, 3.0, -1e300]) });

        Assert.Equal([0.5f, -0.125f, 1f, -1f], audio.Samples.ToArray());
    }

    [Fact]
    public void Extensible_format_uses_the_subformat_tag()
    {
        short[] pcm = [100, -100, 200, -200];
        var audio = Decode(new WavBuilder { Extensible = true, Channels = 2, Data = WavBuilder.Pcm16(pcm) });

        Assert.Equal([0f, 0f], audio.Samples.ToArray());
        var floats = Decode(new WavBuilder { Extensible = true, FormatTag = 3, BitsPerSample = 32, Data = WavBuilder.Float32([0.5f]) });
        Assert.Equal([0.5f], floats.Samples.ToArray());
    }

    [Fact]
    public void Unknown_chunks_including_odd_sized_ones_are_skipped()
    {
        var wav = new WavBuilder
        {
            Data = WavBuilder.Pcm16([1000, 2000]),
            ExtraChunks = [("LIST", new byte[11]), ("fact", new byte[4]), ("junk", [])],
        };

        Assert.Equal([1000 / 32768f, 2000 / 32768f], Decode(wav).Samples.ToArray());
    }

    [Fact]
    public void Streaming_convention_reads_the_bytes_present_in_whole_frames()
    {
        short[] pcm = [1, 2, 3, 4, 5, 6];
        var data = WavBuilder.Pcm16(pcm);

        foreach (uint riffSize in new uint[] { 0xFFFFFFFF, 0 })
        {
            foreach (uint dataSize in new uint[] { 0xFFFFFFFF, 0, 1_000_000 })
            {
                // One stray byte of a half-written frame at the end is dropped.
                var wav = new WavBuilder { Channels = 2, Data = [.. data, 0x7F], RiffSize = riffSize, DataSize = dataSize }.Build();
                var audio = _decoder.Decode(wav[..^1]);

                Assert.True(audio.IsSuccess, $"riff {riffSize:X} data {dataSize:X}: {audio.Error?.Message}");
                Assert.Equal([1.5f / 32768f, 3.5f / 32768f, 5.5f / 32768f], audio.Value.Samples.ToArray());
            }
        }
    }

    [Fact]
    public void Bytes_after_the_riff_end_are_ignored()
    {
        var wav = new WavBuilder { Data = WavBuilder.Pcm16([7, 8]) }.Build();

        var audio = _decoder.Decode([.. wav, .. "ID3 trailing tag"u8]);

        Assert.True(audio.IsSuccess, audio.Error?.Message);
        Assert.Equal(2, audio.Value.Samples.Length);
    }

    [Fact]
    public void Missing_final_pad_byte_is_tolerated()
    {
        var wav = new WavBuilder { BitsPerSample = 8, Data = [1, 2, 3] }.Build();

        var audio = _decoder.Decode(wav[..^1]);

        Assert.True(audio.IsSuccess, audio.Error?.Message);
        Assert.Equal(3, audio.Value.Samples.Length);
    }

    [Fact]
    public async Task Base64_and_stream_entry_points_decode_the_same_samples()
    {
        var wav = new WavBuilder { Data = WavBuilder.Pcm16([10, 20, 30]) }.Build();
        var expected = Decode(new WavBuilder { Data = WavBuilder.Pcm16([10, 20, 30]) }).Samples.ToArray();

        var fromBase64 = _decoder.DecodeBase64(Convert.ToBase64String(wav));
        var fromStream = await _decoder.DecodeAsync(new MemoryStream(wav));

        Assert.Equal(expected, fromBase64.Value!.Samples.ToArray());
        Assert.Equal(expected, fromStream.Value!.Samples.ToArray());
    }

    [Fact]
    public void Thirty_seconds_is_accepted_and_duration_is_reported()
    {
        var audio = Decode(new WavBuilder { SampleRate = 8000, Data = new byte[8000 * 2 * 30] });

        Assert.Equal(30.0, audio.DurationSeconds);
    }

    private DecodedAudio Decode(WavBuilder builder)
    {
        var result = _decoder.Decode(builder.Build());
        Assert.True(result.IsSuccess, result.Error?.Message);
        return result.Value;
    }
}
