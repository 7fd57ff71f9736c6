using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;
using MmServe.Media.Output;

namespace MmServe.FunctionalTests;

/// <summary>
/// Refused generation requests (chat modalities/audio, images, speech, transcriptions): each is a 4xx in
/// OpenAI's error shape naming the field, and none makes the server log an error with a stack trace.
/// </summary>
public sealed class GenerationErrorTests(ServerFixture server) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly int _logMark = server.Factory.Logs.Entries.Count;

    public void Dispose() => Assert.Empty(server.Factory.Logs.ErrorsWithExceptions(_logMark));

    public static TheoryData<string, string, string> BadChatOutputs => new()
    {
        { """{"modalities":["text","video"]}""", "modalities[1]", "unsupported_value" },
        { """{"modalities":[]}""", "modalities", "invalid_value" },
        { """{"modalities":"audio"}""", "modalities", "invalid_type" },
        { """{"modalities":["text","audio"]}""", "audio", "missing_required_parameter" },
        { """{"modalities":["text","audio"],"audio":{"format":"wav"}}""", "audio.voice", "missing_required_parameter" },
        { """{"modalities":["text","audio"],"audio":{"voice":"alloy","format":"wav"}}""", "audio.voice", "unsupported_value" },
        { """{"modalities":["text","audio"],"audio":{"voice":"default","format":"mp3"}}""", "audio.format", "unsupported_value" },
        { """{"modalities":["text","audio"],"audio":{"voice":"default"}}""", "audio.format", "missing_required_parameter" },
    };

    [Theory]
    [MemberData(nameof(BadChatOutputs))]
    public async Task ChatOutputOptions_AreChecked(string extra, string param, string code)
    {
        var body = Chat.Request("Draw a red circle.", maxTokens: 40);
        foreach (var (key, value) in JsonNode.Parse(extra)!.AsObject())
        {
            body[key] = value?.DeepClone();
        }

        using var response = await Chat.PostAsync(server.Client, body);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, param, code);
    }

    public static TheoryData<string, string, string> BadImageRequests => new()
    {
        { """{"prompt":"a red circle","size":"1024x1024"}""", "size", "unsupported_value" },
        { """{"prompt":"a red circle","n":5}""", "n", "integer_above_max_value" },
        { """{"prompt":"a red circle","n":0}""", "n", "invalid_value" },
        { """{"prompt":""}""", "prompt", "empty_string" },
        { """{"prompt":"   "}""", "prompt", "empty_string" },
        { """{"n":1}""", "prompt", "missing_required_parameter" },
        { $$"""{"prompt":"{{new string('a', 4097)}}"}""", "prompt", "string_above_max_length" },
        { $$"""{"prompt":"{{string.Join(' ', Enumerable.Repeat("red circle", 300))}}"}""", "prompt", "context_length_exceeded" },
        { """{"prompt":"a red circle","response_format":"url"}""", "response_format", "unsupported_value" },
        { """{"prompt":"a red circle","output_format":"jpeg"}""", "output_format", "unsupported_value" },
        { """{"prompt":"a red circle","n":"two"}""", "n", "invalid_type" },
    };

    [Theory]
    [MemberData(nameof(BadImageRequests))]
    public async Task ImageRequests_AreChecked(string json, string param, string code)
    {
        using var response = await PostJsonAsync("v1/images/generations", json);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, param, code);
    }

    [Fact]
    public async Task ImageRequest_ForAnotherModel_Is404()
    {
        using var response = await PostJsonAsync("v1/images/generations", """{"model":"dall-e-3","prompt":"a red circle"}""");
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.NotFound, "model", "model_not_found");
    }

    public static TheoryData<string, string, string> BadSpeechRequests => new()
    {
        { """{"model":"mmserve-tiny","input":"one low beep","voice":"alloy"}""", "voice", "unsupported_value" },
        { """{"model":"mmserve-tiny","input":"one low beep"}""", "voice", "missing_required_parameter" },
        { """{"model":"mmserve-tiny","input":"one low beep","voice":"default","response_format":"mp3"}""", "response_format", "unsupported_value" },
        { """{"model":"mmserve-tiny","input":"","voice":"default"}""", "input", "empty_string" },
        { """{"model":"mmserve-tiny","voice":"default"}""", "input", "missing_required_parameter" },
        { $$"""{"model":"mmserve-tiny","input":"{{new string('b', 4097)}}","voice":"default"}""", "input", "string_above_max_length" },
        { $$"""{"model":"mmserve-tiny","input":"{{string.Join(' ', Enumerable.Repeat("low beep", 300))}}","voice":"default"}""", "input", "context_length_exceeded" },
        { """{"model":"mmserve-tiny","input":"one low beep","voice":"default","speed":2.0}""", "speed", "unsupported_value" },
        { """{"model":"mmserve-tiny","input":"one low beep","voice":"default","speed":9.0}""", "speed", "invalid_value" },
        { """{"model":"mmserve-tiny","input":"one low beep","voice":"default","stream_format":"sse"}""", "stream_format", "unsupported_value" },
        { """{"input":"one low beep","voice":"default"}""", "model", "missing_required_parameter" },
    };

    [Theory]
    [MemberData(nameof(BadSpeechRequests))]
    public async Task SpeechRequests_AreChecked(string json, string param, string code)
    {
        using var response = await PostJsonAsync("v1/audio/speech", json);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, param, code);
    }

    [Fact]
    public async Task Transcription_OfBytesThatAreNotAudio_Is400()
    {
        using var response = await TranscribeAsync(Encoding.UTF8.GetBytes("this is a text file, not a recording\n"), "notes.wav");
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "file");
        Assert.Contains(error.GetProperty("code").GetString(), new[] { "invalid_audio", "unsupported_audio_format" });
    }

    [Fact]
    public async Task Transcription_OfAClipLongerThanTheLimit_Is400()
    {
        // 31 s of quiet tone: over Limits:Audio:MaxSeconds (30 s), well under the body limit.
        var samples = Enumerable.Range(0, 16000 * 31).Select(i => 0.1f * MathF.Sin(i * 0.1f)).ToArray();
        using var response = await TranscribeAsync(GeneratedAudioEncoder.EncodeWav(samples, 16000), "long.wav");
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "file");
        Assert.Contains("30", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Transcription_WithoutFile_Is400()
    {
        using var form = new MultipartFormDataContent { { new StringContent(Chat.Model), "model" } };
        using var response = await server.Client.PostAsync("v1/audio/transcriptions", form);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "file", "missing_required_parameter");
    }

    [Theory]
    [InlineData("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF")] // section cut short
    [InlineData("garbage")] // no boundary at all
    public async Task Transcription_WithABrokenMultipartBody_Is400(string body)
    {
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=XYZ");
        using var response = await server.Client.PostAsync("v1/audio/transcriptions", content);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "file", "invalid_form");
    }

    [Fact]
    public async Task Transcription_SentAsJson_Is400()
    {
        using var response = await PostJsonAsync("v1/audio/transcriptions", """{"model":"mmserve-tiny","file":"clip.wav"}""");
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "file", "invalid_content_type");
    }

    [Fact]
    public async Task Transcription_WithTimestampsFormat_Is400()
    {
        using var response = await TranscribeAsync(TranscriptionCases.AudioBytes(TranscriptionCases.Default), "clip.wav", ("response_format", "verbose_json"));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "response_format", "unsupported_value");
    }

    [Fact]
    public async Task Transcription_ForAnotherModel_Is404()
    {
        using var response = await TranscribeAsync(TranscriptionCases.AudioBytes(TranscriptionCases.Default), "clip.wav", ("model", "whisper-1"));
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.NotFound, "model", "model_not_found");
    }

    private Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        server.Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<HttpResponseMessage> TranscribeAsync(byte[] audio, string fileName, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(audio);
        file.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        form.Add(file, "file", fileName);
        if (!fields.Any(f => f.Name == "model"))
        {
            form.Add(new StringContent(Chat.Model), "model");
        }

        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return await server.Client.PostAsync("v1/audio/transcriptions", form);
    }
}
