using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using MmServe.FunctionalTests.Infrastructure;
using OpenAI;
using OpenAI.Audio;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// tiny-whisper as a "SpeechModels" entry next to the default chat model: /v1/audio/transcriptions and
/// /v1/audio/translations give transformers.js's greedy ids (verbose_json segment tokens) and text for all 28 golden
/// cases, alone and all in flight at once; text/srt/vtt follow their formats; the OpenAI .NET SDK transcribes.
/// </summary>
public sealed partial class WhisperTranscriptionTests : IAsyncLifetime
{
    private const string Whisper = "tiny-whisper";

    private readonly MmServeFactory _factory = new(new Dictionary<string, string?>
    {
        ["SpeechModels:0:Id"] = Whisper,
        ["SpeechModels:0:Path"] = ConformanceGolden.ModelPath(Whisper),
    });

    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        await _factory.StartAndWaitReadyAsync();
        _client = _factory.CreateHttpClient();
        _client.Timeout = TimeSpan.FromMinutes(5);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private static IReadOnlyList<WhisperGoldenCase> Cases() => WhisperGolden.Cases();

    private Task<HttpResponseMessage> PostAsync(WhisperGoldenCase c, string format) => _client.PostAsync(c.Route, c.Form(Whisper, format));

    private async Task AssertGoldenAsync(WhisperGoldenCase c, HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{c.Id}: {body}");
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var segment = Assert.Single(root.GetProperty("segments").EnumerateArray());
        var ids = segment.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.True(c.OutputIds.SequenceEqual(ids), $"{c.Id} ({c.Audio}): [{string.Join(", ", ids)}] != golden [{string.Join(", ", c.OutputIds)}]");
        Assert.Equal(c.OutputText, segment.GetProperty("text").GetString());
        Assert.Equal(c.OutputText.Trim(), root.GetProperty("text").GetString());
        Assert.Equal(c.Task, root.GetProperty("task").GetString());
        Assert.Equal(c.Language, root.GetProperty("language").GetString());
        Assert.True(root.GetProperty("duration").GetDouble() > 0);
    }

    [FfmpegFact]
    public async Task AllGoldenCases_OneAtATime_OverHttp()
    {
        foreach (var c in Cases())
        {
            using var response = await PostAsync(c, "verbose_json");
            await AssertGoldenAsync(c, response);
        }
    }

    [FfmpegFact]
    public async Task AllGoldenCases_InFlightAtOnce_OverHttp()
    {
        var cases = Cases();
        var responses = await Task.WhenAll(cases.Select(c => PostAsync(c, "verbose_json")));
        for (int i = 0; i < cases.Count; i++)
        {
            using var response = responses[i];
            await AssertGoldenAsync(cases[i], response);
        }
    }

    [FfmpegFact]
    public async Task WhisperAndChatRequestsInFlightTogether_EachGiveTheirGoldens()
    {
        var speech = Cases().Where((_, i) => i % 4 == 0).ToList();
        var chat = GoldenCases.TextAndImage.Take(4).ToList();

        var speechCalls = speech.Select(c => PostAsync(c, "verbose_json"));
        var chatCalls = chat.Select(g => Chat.PostAsync(_client, g.ToRequest()));
        var responses = await Task.WhenAll(speechCalls.Concat(chatCalls));

        for (int i = 0; i < speech.Count; i++)
        {
            using var response = responses[i];
            await AssertGoldenAsync(speech[i], response);
        }

        for (int i = 0; i < chat.Count; i++)
        {
            using var response = responses[speech.Count + i];
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            using var doc = JsonDocument.Parse(body);
            Assert.Equal(chat[i].CompletionTokenIds, Chat.Ints(doc.RootElement.GetProperty("choices")[0].GetProperty("token_ids")));
        }
    }

    [Fact]
    public async Task ModelsList_NamesTheSpeechModelAfterTheChatModel_AndChatRefusesIt()
    {
        using var list = JsonDocument.Parse(await _client.GetStringAsync("v1/models"));
        Assert.Equal([Chat.Model, Whisper], list.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        using var card = JsonDocument.Parse(await _client.GetStringAsync($"v1/models/{Whisper}"));
        var capabilities = card.RootElement.GetProperty("capabilities");
        Assert.Equal(["audio"], capabilities.GetProperty("input_modalities").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["text"], capabilities.GetProperty("output_modalities").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(448, capabilities.GetProperty("max_context").GetInt32());

        // A speech model is not a chat model: a clear client error, not a crash.
        var body = Chat.Request("Hello!");
        body["model"] = Whisper;
        using var chat = await Chat.PostAsync(_client, body);
        Assert.True((int)chat.StatusCode is >= 400 and < 500, $"{chat.StatusCode}");
        Assert.Contains("\"error\"", await chat.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TextSrtAndVtt_FollowTheirFormats()
    {
        var c = Cases().First(x => x.Audio.EndsWith("16k.wav", StringComparison.Ordinal));

        using var text = await PostAsync(c, "text");
        Assert.Equal("text/plain", text.Content.Headers.ContentType?.MediaType);
        Assert.Equal(c.OutputText.Trim() + "\n", await text.Content.ReadAsStringAsync());

        using var json = await PostAsync(c, "json");
        using (var doc = JsonDocument.Parse(await json.Content.ReadAsStringAsync()))
        {
            Assert.Equal(c.OutputText.Trim(), doc.RootElement.GetProperty("text").GetString());
        }

        using var srt = await PostAsync(c, "srt");
        var srtBody = await srt.Content.ReadAsStringAsync();
        Assert.Matches(SrtCue(), srtBody);
        Assert.Contains("\n" + c.OutputText.Trim() + "\n\n", srtBody, StringComparison.Ordinal);

        using var vtt = await PostAsync(c, "vtt");
        Assert.Equal("text/vtt", vtt.Content.Headers.ContentType?.MediaType);
        var vttBody = await vtt.Content.ReadAsStringAsync();
        Assert.Matches(VttCue(), vttBody);
        Assert.Contains("\n" + c.OutputText.Trim() + "\n\n", vttBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownFormatOrLanguage_IsA400NamingTheField()
    {
        var c = Cases().First(x => x.Audio.EndsWith("16k.wav", StringComparison.Ordinal));

        using var format = await PostAsync(c, "tsv");
        Assert.Equal(HttpStatusCode.BadRequest, format.StatusCode);
        Assert.Contains("\"param\":\"response_format\"", await format.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var language = await PostAsync(c with { Language = "xx" }, "json");
        Assert.Equal(HttpStatusCode.BadRequest, language.StatusCode);
        Assert.Contains("\"param\":\"language\"", await language.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheChatModel_StillAnswersAndDoesNotTranslate()
    {
        var c = Cases()[0];
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(TestPaths.RepoRoot, "tests", "conformance", c.Audio))), "file", "a.wav" },
            { new StringContent(Chat.Model), "model" },
        };

        using var response = await _client.PostAsync("v1/audio/translations", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task OpenAiSdk_TranscribeAudioAsync_GetsTheGoldenText()
    {
        var c = Cases().First(x => x.Audio.EndsWith("16k.wav", StringComparison.Ordinal) && x.Task == "transcribe");
        var client = new AudioClient(Whisper, new ApiKeyCredential("dummy"), new OpenAIClientOptions { Endpoint = new Uri(_factory.BaseAddress, "v1") });
        await using var audio = File.OpenRead(Path.Combine(TestPaths.RepoRoot, "tests", "conformance", c.Audio));

        var result = await client.TranscribeAudioAsync(audio, Path.GetFileName(c.Audio), new AudioTranscriptionOptions
        {
            Language = c.Language,
            ResponseFormat = AudioTranscriptionFormat.Verbose,
        });

        Assert.Equal(c.OutputText.Trim(), result.Value.Text);
        Assert.Equal(c.Language, result.Value.Language);
        Assert.True(result.Value.Duration > TimeSpan.Zero);
        var segment = Assert.Single(result.Value.Segments);
        Assert.Equal(c.OutputIds, segment.TokenIds.ToArray());
    }

    [GeneratedRegex(@"\A1\n00:00:00,000 --> \d\d:\d\d:\d\d,\d\d\d\n.+\n\n\z")]
    private static partial Regex SrtCue();

    [GeneratedRegex(@"\AWEBVTT\n\n00:00:00\.000 --> \d\d:\d\d:\d\d\.\d\d\d\n.+\n\n\z")]
    private static partial Regex VttCue();
}

/// <summary>A "SpeechModels" entry that does not load stops the start, naming the setting and the file.</summary>
public sealed class SpeechModelStartupTests
{
    /// <summary>Entries of the sections served apart from "Models" (SpeechModels, Florence2Models) load at start.</summary>
    [Theory]
    [InlineData("SpeechModels", "tiny-whisper")]
    [InlineData("Florence2Models", "tiny-florence2")]
    public async Task ABrokenEntry_StopsTheStart_NamingTheSetting(string section, string model)
    {
        var folder = Directory.CreateTempSubdirectory("mmserve-broken-");
        try
        {
            File.Copy(Path.Combine(ConformanceGolden.ModelPath(model), "config.json"), Path.Combine(folder.FullName, "config.json"));
            await using var factory = new MmServeFactory(new Dictionary<string, string?> { [$"{section}:0:Path"] = folder.FullName });

            var error = await Assert.ThrowsAnyAsync<Exception>(factory.StartAndWaitReadyAsync);

            var message = error.ToString();
            Assert.Contains($"{section}:0:Path", message, StringComparison.Ordinal);
            Assert.Contains("preprocessor_config.json", message, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
