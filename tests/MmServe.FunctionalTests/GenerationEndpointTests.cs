using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// The task endpoints answer like the golden cases they are built from: transcription equals the case that asks
/// the same question after the same clip, speech equals the reference beep, and chat shapes stay consistent
/// when the model draws nothing or a WAV is streamed.
/// </summary>
public sealed class GenerationEndpointTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly GoldenCase AudioCase = GoldenCases.Generation.First(c => c.Generated!.Modality == "audio");

    [Fact]
    public async Task Transcription_UsesTheModelsTranscriptionPrompt()
    {
        var golden = TranscriptionCases.Default;
        using var response = await TranscribeAsync(TranscriptionCases.AudioBytes(golden));
        var body = await Chat.ReadJsonAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["text"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(golden.CompletionText, body.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Transcription_PromptReplacesTheInstruction_AndTextFormatIsPlain()
    {
        var golden = TranscriptionCases.Heard;
        using var response = await TranscribeAsync(TranscriptionCases.AudioBytes(golden), ("prompt", TranscriptionCases.Question(golden)), ("response_format", "text"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(golden.CompletionText, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Speech_AsPcm_IsTheReferenceBeep_At24Kilohertz()
    {
        using var response = await server.Client.PostAsync("v1/audio/speech", new StringContent(
            """{"model":"mmserve-tiny","input":"one low beep.","voice":"default","response_format":"pcm"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("audio/pcm", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("24000", response.Headers.GetValues("X-Sample-Rate").Single()); // OpenAI's pcm rate
        GeneratedMediaAssert.Pcm16Matches(await response.Content.ReadAsByteArrayAsync(), AudioCase.Generated!.Values(), 16000, "speech pcm");
    }

    [Fact]
    public async Task ChatWithImageModality_WhenTheModelDrawsNothing_ListsNoImages()
    {
        var body = Chat.Request("What can you do?", maxTokens: 40);
        body["modalities"] = new JsonArray("text", "image");
        using var response = await Chat.PostAsync(server.Client, body);
        var message = (await Chat.ReadJsonAsync(response)).GetProperty("choices")[0].GetProperty("message");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(string.IsNullOrEmpty(message.GetProperty("content").GetString()));
        Assert.Equal(0, message.GetProperty("images").GetArrayLength());
    }

    [Fact]
    public async Task StreamedWav_ArrivesWhole_InOneDataChunkBeforeTheFinish()
    {
        var request = AudioCase.ToRequest();
        request["modalities"] = new JsonArray("text", "audio");
        request["audio"] = new JsonObject { ["voice"] = "default", ["format"] = "wav" };
        request["stream"] = true;
        using var response = await Chat.PostStreamingAsync(server.Client, request);
        var events = await Chat.ReadEventsAsync(response);
        var choices = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0]).ToList();
        int data = choices.FindIndex(c => c.GetProperty("delta").TryGetProperty("audio", out var a) && a.TryGetProperty("data", out _));
        Assert.True(data >= 0, "no audio data chunk");
        Assert.Single(choices, c => c.GetProperty("delta").TryGetProperty("audio", out var a) && a.TryGetProperty("data", out _));
        Assert.Equal(choices.Count - 2, data); // just before the finish chunk
        var wav = Convert.FromBase64String(choices[data].GetProperty("delta").GetProperty("audio").GetProperty("data").GetString()!);
        GeneratedMediaAssert.WavMatches(wav, AudioCase.Generated!.Values(), 16000, "streamed wav");
    }

    [Fact]
    public async Task Models_ListOutputModalitiesVoicesAndSizes()
    {
        var card = await Chat.ReadJsonAsync(await server.Client.GetAsync("v1/models/mmserve-tiny"));
        var capabilities = card.GetProperty("capabilities");
        Assert.Equal(["text", "audio", "image"], capabilities.GetProperty("output_modalities").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["default"], capabilities.GetProperty("voices").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["64x64"], capabilities.GetProperty("image_sizes").EnumerateArray().Select(e => e.GetString()));
    }

    private async Task<HttpResponseMessage> TranscribeAsync(byte[] audio, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(audio);
        file.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        form.Add(file, "file", "clip.wav");
        form.Add(new StringContent(Chat.Model), "model");
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return await server.Client.PostAsync("v1/audio/transcriptions", form);
    }
}
