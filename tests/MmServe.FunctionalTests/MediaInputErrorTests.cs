using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// Hostile or broken audio and video over HTTP: every case is a 400 in OpenAI's error shape naming the part, and
/// the server keeps serving. Remote URLs are refused while remote media is off (the default).
/// </summary>
public sealed class MediaInputErrorTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string AudioParam = "messages[0].content[0].input_audio.data";

    public static TheoryData<string, string> BrokenWavs => new()
    {
        { "truncated", Convert.ToBase64String(Wav(16000, 1, 16, samples: 16000)[..300]) },
        { "size 0xFFFFFFFF", Convert.ToBase64String(Wav(16000, 1, 16, samples: 100, dataSize: 0xFFFFFFFF)) },
        { "0 channels", Convert.ToBase64String(Wav(16000, 0, 16, samples: 100)) },
        { "0 Hz", Convert.ToBase64String(Wav(0, 1, 16, samples: 100)) },
    };

    [Theory]
    [MemberData(nameof(BrokenWavs))]
    public async Task BrokenWav_Is400InvalidAudio(string what, string base64)
    {
        using var response = await Chat.PostAsync(server.Client, WithAudio(base64, "wav"));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, AudioParam);
        Assert.True(error.GetProperty("code").GetString() is "invalid_audio" or "unsupported_audio_format", $"{what}: {error}");
    }

    [Fact]
    public async Task InvalidBase64Audio_Is400()
    {
        using var response = await Chat.PostAsync(server.Client, WithAudio("not base64 at all!", "wav"));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, AudioParam, "invalid_audio");
    }

    [Fact]
    public async Task Mp3ThatIsText_Is400InvalidAudio()
    {
        var text = Convert.ToBase64String(Encoding.UTF8.GetBytes("ID3 this is a text file that claims to be an mp3, nothing more.\n"));
        using var response = await Chat.PostAsync(server.Client, WithAudio(text, "mp3"));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, AudioParam, "invalid_audio");
        Assert.Contains("MP3", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownAudioFormat_Is400NamingTheSupportedOnes()
    {
        using var response = await Chat.PostAsync(server.Client, WithAudio("UklGRg==", "aiff"));
        var error = await ErrorAssert.IsOpenAiErrorAsync(
            response, HttpStatusCode.BadRequest, "messages[0].content[0].input_audio.format", "unsupported_audio_format");
        Assert.Contains("'wav'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AudioLongerThanTheLimit_Is400NamingTheLimit()
    {
        // 40 s of 8 kHz silence: small, but past the 30 s default.
        var wav = Convert.ToBase64String(Wav(8000, 1, 8, samples: 8000 * 40));
        using var response = await Chat.PostAsync(server.Client, WithAudio(wav, "wav"));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, AudioParam, "audio_too_large");
        Assert.Contains("30 seconds", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MoreAudioClipsThanTheLimit_Is400()
    {
        var wav = Convert.ToBase64String(Wav(16000, 1, 16, samples: 1600));
        var body = Chat.Request("x");
        var parts = new JsonArray();
        for (int i = 0; i < 5; i++)
        {
            parts.Add(AudioPart(wav, "wav"));
        }

        body["messages"]![0]!["content"] = parts;
        using var response = await Chat.PostAsync(server.Client, body);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages", "too_many_audio_clips");
    }

    [Fact]
    public async Task AudioInASystemMessage_Is400()
    {
        var body = WithAudio(Convert.ToBase64String(Wav(16000, 1, 16, samples: 1600)), "wav");
        body["messages"]![0]!["role"] = "system";
        using var response = await Chat.PostAsync(server.Client, body);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0]", "invalid_value");
    }

    [Theory]
    [InlineData("audio_url", "https://example.com/a.wav")]
    [InlineData("video_url", "https://example.com/v.mp4")]
    [InlineData("video_url", "http://127.0.0.1/v.mp4")]
    public async Task RemoteMediaUrl_IsRefusedWhileRemoteMediaIsOff(string type, string url)
    {
        var body = Chat.Request("x");
        body["messages"]![0]!["content"] = new JsonArray(
            new JsonObject { ["type"] = type, [type] = new JsonObject { ["url"] = url } },
            new JsonObject { ["type"] = "text", ["text"] = "What is it?" });
        using var response = await Chat.PostAsync(server.Client, body);
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, code: type == "video_url" && !ToolRequirement.Ffmpeg.Available ? null : "remote_media_disabled");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(error.GetProperty("message").GetString());
    }

    [FfmpegTheory]
    [InlineData("hls", "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n{0}\n#EXT-X-ENDLIST\n")]
    [InlineData("ffconcat", "ffconcat version 1.0\nfile '{0}'\n")]
    public async Task VideoThatIsAPlaylistNamingALocalFile_Is400AndNeverReadsTheFile(string kind, string template)
    {
        var secret = Path.Combine(Path.GetTempPath(), $"mmserve-secret-{Guid.NewGuid():N}.txt");
        var marker = $"TOP-SECRET-{Guid.NewGuid():N}";
        await File.WriteAllTextAsync(secret, marker);
        try
        {
            var playlist = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, secret);
            var body = WithVideo("data:video/mp4;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes(playlist)));
            using var response = await Chat.PostAsync(server.Client, body);
            var raw = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.DoesNotContain(marker, raw, StringComparison.Ordinal);
            Assert.DoesNotContain(marker, string.Join("\n", server.Factory.Logs.Entries), StringComparison.Ordinal);
            Assert.Contains("\"param\":\"messages[0].content[0].video_url.url\"", raw.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
            _ = kind;
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [FfmpegFact]
    public async Task Video16000x16000_Is400BeforeAnyDecoding()
    {
        // A 40-byte GIF whose screen and frame claim 16000x16000: ffprobe reads the header, the cap refuses it.
        var gif = new List<byte>("GIF89a"u8.ToArray());
        gif.AddRange(UInt16(16000));
        gif.AddRange(UInt16(16000));
        gif.AddRange([0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x2C, 0, 0, 0, 0]);
        gif.AddRange(UInt16(16000));
        gif.AddRange(UInt16(16000));
        gif.AddRange([0, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]);
        using var response = await Chat.PostAsync(server.Client, WithVideo("data:image/gif;base64," + Convert.ToBase64String([.. gif])));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].video_url.url", "video_too_large");
        Assert.Contains("16000x16000", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [FfmpegFact]
    public async Task OneHourVideo_Is400NamingTheLimit()
    {
        var video = await FfmpegOutputAsync("hour.mp4", "-f", "lavfi", "-i", "color=c=gray:s=16x16:r=1:d=3600", "-c:v", "libx264", "-preset", "ultrafast", "-g", "3600", "-threads", "1");
        using var response = await Chat.PostAsync(server.Client, WithVideo("data:video/mp4;base64," + Convert.ToBase64String(video)));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].video_url.url", "video_too_large");
        Assert.Contains("3600", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [FfmpegFact]
    public async Task SmallCompressedAudioThatDecodesPastTheLimit_Is400()
    {
        // 45 s of 8 kbps MP3 is ~45 KB; decoding stops at the 30 s limit instead of expanding the whole clip.
        var mp3 = await FfmpegOutputAsync("long.mp3", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=8000:duration=45", "-c:a", "libmp3lame", "-b:a", "8k");
        Assert.True(mp3.Length < 100_000, $"{mp3.Length} bytes");
        using var response = await Chat.PostAsync(server.Client, WithAudio(Convert.ToBase64String(mp3), "mp3"));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, AudioParam, "audio_too_large");
        Assert.Contains("30 seconds", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [FfmpegFact]
    public async Task VideoThatIsNotAVideo_Is400()
    {
        using var response = await Chat.PostAsync(server.Client, WithVideo("data:video/mp4;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes("hello, not a video"))));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].video_url.url");
    }

    [Fact]
    public async Task AfterHostileMedia_TheServerStillAnswers()
    {
        using (await Chat.PostAsync(server.Client, WithAudio(Convert.ToBase64String(Wav(16000, 0, 16, samples: 10)), "wav")))
        {
        }

        using var response = await Chat.PostAsync(server.Client, Chat.Request("Hello!"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static byte[] UInt16(int value) => [(byte)(value & 0xFF), (byte)(value >> 8)];

    /// <summary>Runs Debian's ffmpeg to make a test clip (the arguments are the test's own, never user input).</summary>
    private static async Task<byte[]> FfmpegOutputAsync(string name, params string[] arguments)
    {
        var dir = Directory.CreateTempSubdirectory("mmserve-test-");
        try
        {
            var output = Path.Combine(dir.FullName, name);
            var start = new System.Diagnostics.ProcessStartInfo("ffmpeg") { RedirectStandardError = true };
            foreach (var a in (string[])["-nostdin", "-loglevel", "error", "-y", .. arguments, output])
            {
                start.ArgumentList.Add(a);
            }

            using var process = System.Diagnostics.Process.Start(start)!;
            var stderr = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, stderr);
            return await File.ReadAllBytesAsync(output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static JsonObject AudioPart(string base64, string format) => new()
    {
        ["type"] = "input_audio",
        ["input_audio"] = new JsonObject { ["data"] = base64, ["format"] = format },
    };

    private static JsonObject WithAudio(string base64, string format)
    {
        var body = Chat.Request("x");
        body["messages"]![0]!["content"] = new JsonArray(AudioPart(base64, format), new JsonObject { ["type"] = "text", ["text"] = "What do you hear?" });
        return body;
    }

    private static JsonObject WithVideo(string url)
    {
        var body = Chat.Request("x");
        body["messages"]![0]!["content"] = new JsonArray(
            new JsonObject { ["type"] = "video_url", ["video_url"] = new JsonObject { ["url"] = url } },
            new JsonObject { ["type"] = "text", ["text"] = "What is happening in the video?" });
        return body;
    }

    /// <summary>A PCM WAV whose header fields are whatever the test says (dataSize overrides the real length).</summary>
    internal static byte[] Wav(uint rate, ushort channels, ushort bits, int samples, uint? dataSize = null)
    {
        int bytesPerSample = bits / 8;
        int dataLength = samples * Math.Max((int)channels, 1) * bytesPerSample;
        var wav = new byte[44 + dataLength];
        "RIFF"u8.CopyTo(wav);
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(4), (uint)(36 + dataLength));
        "WAVEfmt "u8.CopyTo(wav.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(16), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(wav.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(wav.AsSpan(22), channels);
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(24), rate);
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(28), rate * channels * (uint)bytesPerSample);
        BinaryPrimitives.WriteUInt16LittleEndian(wav.AsSpan(32), (ushort)(channels * bytesPerSample));
        BinaryPrimitives.WriteUInt16LittleEndian(wav.AsSpan(34), bits);
        "data"u8.CopyTo(wav.AsSpan(36));
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(40), dataSize ?? (uint)dataLength);
        if (bits == 8)
        {
            wav.AsSpan(44).Fill(128); // 8-bit PCM silence is 128
        }

        return wav;
    }
}
