using System.Buffers.Binary;
using System.Text;
using MmServe.Media.Audio;

namespace MmServe.Media.Tests.Audio;

/// <summary>Broken and hostile WAV files are rejected as values, with a client-safe message naming the problem or limit.</summary>
public sealed class HostileWavTests
{
    private static readonly byte[] OneSecond = new byte[16000 * 2];

    private readonly WavDecoder _decoder = new();

    [Fact]
    public void Truncated_data_is_rejected()
    {
        var wav = new WavBuilder { Data = OneSecond }.Build();

        AssertFails(wav[..(wav.Length / 2)], MediaErrorCodes.InvalidAudio, "truncated");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(11)]
    [InlineData(20)]
    [InlineData(40)]
    public void Truncated_header_is_rejected(int length)
    {
        var wav = new WavBuilder { Data = OneSecond }.Build();

        AssertFails(wav[..length], MediaErrorCodes.InvalidAudio);
    }

    [Fact]
    public void Data_size_0xFFFFFFFF_without_the_streaming_riff_size_is_rejected()
    {
        var honest = new WavBuilder { Data = OneSecond }.Build();
        var wav = new WavBuilder { Data = OneSecond, DataSize = 0xFFFFFFFF, RiffSize = (uint)(honest.Length - 8) }.Build();

        AssertFails(wav, MediaErrorCodes.InvalidAudio, "0xFFFFFFFF");
    }

    [Fact]
    public void Data_chunk_larger_than_the_file_is_rejected()
    {
        var wav = new WavBuilder { Data = OneSecond, DataSize = (uint)OneSecond.Length + 2000 }.Build();

        AssertFails(wav, MediaErrorCodes.InvalidAudio, "truncated");
    }

    [Fact]
    public void Unknown_chunk_larger_than_the_file_is_rejected_even_when_streaming()
    {
        var wav = new WavBuilder { Data = OneSecond, RiffSize = 0xFFFFFFFF, ExtraChunks = [("LIST", new byte[8])] }.Build();
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(36 + 4), 0xFFFFFFF0);

        AssertFails(wav, MediaErrorCodes.InvalidAudio, "truncated");
    }

    [Fact]
    public void Chunk_past_a_smaller_riff_size_is_rejected()
    {
        var honest = new WavBuilder { Data = OneSecond }.Build();
        var wav = new WavBuilder { Data = OneSecond, RiffSize = (uint)(honest.Length - 8 - 100) }.Build();

        AssertFails(wav, MediaErrorCodes.InvalidAudio, "RIFF size");
    }

    [Fact]
    public void Zero_channels_is_rejected()
    {
        AssertFails(new WavBuilder { Channels = 0, BlockAlign = 2, Data = OneSecond }.Build(), MediaErrorCodes.InvalidAudio, "0 channels");
    }

    [Fact]
    public void Zero_hertz_is_rejected()
    {
        AssertFails(new WavBuilder { SampleRate = 0, Data = OneSecond }.Build(), MediaErrorCodes.InvalidAudio, "0 Hz");
    }

    [Fact]
    public void Block_align_mismatch_is_rejected()
    {
        AssertFails(new WavBuilder { Channels = 2, BlockAlign = 2, Data = OneSecond }.Build(), MediaErrorCodes.InvalidAudio, "block align");
    }

    [Fact]
    public void Byte_rate_mismatch_is_rejected()
    {
        AssertFails(new WavBuilder { ByteRate = 12345, Data = OneSecond }.Build(), MediaErrorCodes.InvalidAudio, "byte rate");
    }

    [Fact]
    public void Data_size_not_a_multiple_of_block_align_is_rejected()
    {
        AssertFails(new WavBuilder { Channels = 2, Data = new byte[402] }.Build(), MediaErrorCodes.InvalidAudio, "block align");
    }

    [Fact]
    public void Ten_hour_header_is_rejected_by_duration_before_any_sample_buffer_exists()
    {
        // 10 h of 16 kHz 16-bit mono is 1.15 GB (4.6 GB as float); the file is a few KB and both the RIFF
        // and the data size tell the same lie.
        const uint claimed = 16000 * 2 * 3600 * 10;
        var wav = new WavBuilder { Data = new byte[4000], DataSize = claimed, RiffSize = claimed + 36 }.Build();

        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = _decoder.Decode(wav);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.False(result.IsSuccess);
        Assert.Equal(MediaErrorCodes.AudioTooLarge, result.Error.Code);
        Assert.Contains("30 seconds", result.Error.Message, StringComparison.Ordinal);
        Assert.True(allocated < 10 * 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Thirty_one_seconds_is_rejected()
    {
        AssertFails(new WavBuilder { SampleRate = 8000, Data = new byte[8000 * 2 * 31] }.Build(), MediaErrorCodes.AudioTooLarge, "30 seconds");
    }

    [Fact]
    public void Text_pretending_to_be_a_wav_is_rejected()
    {
        var text = Encoding.UTF8.GetBytes("RIFF? no. This is a plain text file that someone named audio.wav.\n");

        AssertFails(text, MediaErrorCodes.InvalidAudio);
        AssertFails(Encoding.UTF8.GetBytes("hello, world"), MediaErrorCodes.InvalidAudio, "not a RIFF/WAVE");
        AssertFails([], MediaErrorCodes.InvalidAudio);
    }

    [Fact]
    public void Riff_of_another_form_type_is_rejected()
    {
        var wav = new WavBuilder { Data = OneSecond }.Build();
        "AVI "u8.CopyTo(wav.AsSpan(8));

        AssertFails(wav, MediaErrorCodes.InvalidAudio, "not WAVE");
    }

    [Theory]
    [InlineData(2, 4)] // Microsoft ADPCM
    [InlineData(7, 8)] // mu-law
    [InlineData(0x55, 0)] // MP3 in WAV
    [InlineData(1, 12)] // 12-bit PCM
    [InlineData(3, 16)] // 16-bit float
    public void Unknown_format_tag_or_bit_depth_is_unsupported(int formatTag, int bits)
    {
        var wav = new WavBuilder { FormatTag = formatTag, BitsPerSample = bits, BlockAlign = 2, ByteRate = 32000, Data = OneSecond }.Build();

        AssertFails(wav, MediaErrorCodes.UnsupportedAudioFormat, "format tag");
    }

    [Fact]
    public void Other_containers_are_named_as_unsupported()
    {
        AssertFails([.. "ID3"u8, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0], MediaErrorCodes.UnsupportedAudioFormat, "MP3");
        AssertFails([.. "OggS"u8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0], MediaErrorCodes.UnsupportedAudioFormat, "Ogg");
        AssertFails([.. "fLaC"u8, 0, 0, 0, 34, 0, 0, 0, 0], MediaErrorCodes.UnsupportedAudioFormat, "FLAC");
        AssertFails([.. "RIFX"u8, 0, 0, 0, 36, .. "WAVE"u8], MediaErrorCodes.UnsupportedAudioFormat, "RIFX");
    }

    [Fact]
    public void Channel_sample_rate_and_byte_limits_are_enforced_and_named()
    {
        AssertFails(new WavBuilder { Channels = 9, Data = new byte[18] }.Build(), MediaErrorCodes.UnsupportedAudioFormat, "limit is 8 channels");
        AssertFails(new WavBuilder { SampleRate = 384000, Data = new byte[2] }.Build(), MediaErrorCodes.UnsupportedAudioFormat, "limit is 192000 Hz");

        var small = new WavDecoder(new AudioLimits { MaxBytes = 100 });
        var result = small.Decode(new WavBuilder { Data = new byte[200] }.Build());
        Assert.Equal(MediaErrorCodes.AudioTooLarge, result.Error!.Code);
        Assert.Contains("100 bytes", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Oversized_base64_and_stream_are_rejected_before_decoding()
    {
        var small = new WavDecoder(new AudioLimits { MaxBytes = 100 });
        var wav = new WavBuilder { Data = new byte[200] }.Build();

        Assert.Equal(MediaErrorCodes.AudioTooLarge, small.DecodeBase64(Convert.ToBase64String(wav)).Error!.Code);
        Assert.Equal(MediaErrorCodes.AudioTooLarge, (await small.DecodeAsync(new MemoryStream(wav))).Error!.Code);
        Assert.Equal(MediaErrorCodes.InvalidAudio, small.DecodeBase64("not base64!").Error!.Code);
    }

    [Fact]
    public void Too_many_chunks_before_the_data_are_rejected()
    {
        var chunks = Enumerable.Range(0, WavChunkReader.MaxChunksBeforeData).Select(_ => ("junk", Array.Empty<byte>())).ToList();

        AssertFails(new WavBuilder { Data = OneSecond, ExtraChunks = chunks }.Build(), MediaErrorCodes.InvalidAudio, "chunks");
    }

    [Fact]
    public void Missing_duplicate_or_misordered_chunks_are_rejected()
    {
        var wav = new WavBuilder { Data = new byte[4] }.Build();

        // Rename data → "dat_": no data chunk at all.
        var noData = (byte[])wav.Clone();
        noData[39] = (byte)'_';
        AssertFails(noData, MediaErrorCodes.InvalidAudio, "no data chunk");

        var fmtBody = wav.AsSpan(20, 16).ToArray();
        AssertFails(new WavBuilder { Data = new byte[4], ExtraChunks = [("fmt ", fmtBody)] }.Build(), MediaErrorCodes.InvalidAudio, "more than one fmt");

        // Rename fmt → "fmx ": the data chunk then comes without a format.
        var noFmt = (byte[])wav.Clone();
        noFmt[14] = (byte)'x';
        AssertFails(noFmt, MediaErrorCodes.InvalidAudio, "precedes the fmt");

        AssertFails(new WavBuilder { Data = [] }.Build(), MediaErrorCodes.InvalidAudio, "no samples");
    }

    [Fact]
    public void Short_fmt_chunk_is_rejected()
    {
        var wav = new WavBuilder { Data = new byte[4] }.Build();
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(16), 12);

        AssertFails(wav, MediaErrorCodes.InvalidAudio, "fmt chunk");
    }

    [Fact]
    public void NaN_or_infinite_float_samples_are_rejected()
    {
        var nan = new WavBuilder { FormatTag = 3, BitsPerSample = 32, Data = WavBuilder.Float32([0.1f, float.NaN]) }.Build();
        var infinity = new WavBuilder { FormatTag = 3, BitsPerSample = 64, Data = WavBuilder.Float64([double.PositiveInfinity]) }.Build();

        AssertFails(nan, MediaErrorCodes.InvalidAudio, "NaN");
        AssertFails(infinity, MediaErrorCodes.InvalidAudio, "NaN");
    }

    [Fact]
    public void Random_bytes_after_a_valid_riff_header_never_throw()
    {
        var random = new Random(11);
        var header = new WavBuilder { Data = new byte[64] }.Build();
        for (int i = 0; i < 2000; i++)
        {
            var wav = (byte[])header.Clone();

            // Flip a few header bytes (RIFF size, chunk ids and sizes, fmt fields) at random.
            for (int flips = 0; flips < 3; flips++)
            {
                wav[4 + random.Next(40)] = (byte)random.Next(256);
            }

            var result = _decoder.Decode(wav);
            Assert.True(result.IsSuccess || result.Error.Message.Length > 0);
        }
    }

    private void AssertFails(byte[] wav, string code, string? messagePart = null)
    {
        var result = _decoder.Decode(wav);
        Assert.False(result.IsSuccess, "decoding should have failed");
        Assert.Equal(code, result.Error.Code);
        if (messagePart is not null)
        {
            Assert.Contains(messagePart, result.Error.Message, StringComparison.Ordinal);
        }
    }
}
