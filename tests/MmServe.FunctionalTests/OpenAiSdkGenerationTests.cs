// The SDK marks chat audio output as evaluation API (OPENAI001); it is exactly what these tests exercise.
#pragma warning disable OPENAI001
using System.ClientModel;
using MmServe.FunctionalTests.Infrastructure;
using OpenAI;
using OpenAI.Audio;
using OpenAI.Chat;
using OpenAI.Images;

namespace MmServe.FunctionalTests;

/// <summary>
/// The official OpenAI .NET SDK reads MmServe's generated media: chat audio output (whole and streamed), images
/// through ImageClient, speech and transcription through AudioClient. Outputs are checked against the PyTorch
/// reference, not merely for presence.
/// </summary>
public sealed class OpenAiSdkGenerationTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly GoldenCase AudioCase = GoldenCases.Generation.First(c => c.Generated!.Modality == "audio");
    private static readonly GoldenCase ImageCase = GoldenCases.Generation.First(c => c.Generated!.Modality == "image");

    [Fact]
    public async Task SdkChat_ReadsAudioOutput()
    {
        var options = AudioOptions(ChatOutputAudioFormat.Wav);
        ChatCompletion completion = await ChatClient().CompleteChatAsync([new UserChatMessage(UserText(AudioCase))], options);

        Assert.NotNull(completion.OutputAudio);
        Assert.Equal(AudioCase.CompletionText, completion.OutputAudio.Transcript);
        Assert.StartsWith("audio_", completion.OutputAudio.Id);
        Assert.True(completion.OutputAudio.ExpiresAt > completion.CreatedAt);
        GeneratedMediaAssert.WavMatches(completion.OutputAudio.AudioBytes.ToArray(), AudioCase.Generated!.Values(), 16000, "SDK chat audio");
    }

    [Fact]
    public async Task SdkStreamingChat_ReadsAudioTranscriptAndPcm()
    {
        var transcript = new System.Text.StringBuilder();
        var pcm = new List<byte>();
        var ids = new HashSet<string>();
        await foreach (var update in ChatClient().CompleteChatStreamingAsync([new UserChatMessage(UserText(AudioCase))], AudioOptions(ChatOutputAudioFormat.Pcm16)))
        {
            if (update.OutputAudioUpdate is { } audio)
            {
                ids.Add(audio.Id);
                transcript.Append(audio.TranscriptUpdate);
                if (audio.AudioBytesUpdate is { } bytes)
                {
                    pcm.AddRange(bytes.ToArray());
                }
            }
        }

        Assert.Single(ids);
        Assert.Equal(AudioCase.CompletionText, transcript.ToString());
        GeneratedMediaAssert.Pcm16Matches([.. pcm], AudioCase.Generated!.Values(), 16000, "SDK streamed chat audio");
    }

    [Fact]
    public async Task SdkImageClient_GeneratesTheReferenceImage()
    {
        var client = new ImageClient(MmServe.TestSupport.Server.Chat.Model, new ApiKeyCredential("dummy"), new OpenAIClientOptions { Endpoint = Endpoint() });
        var options = new ImageGenerationOptions { Size = new GeneratedImageSize(64, 64), ResponseFormat = GeneratedImageFormat.Bytes };

        GeneratedImage image = await client.GenerateImageAsync("a red circle", options);
        GeneratedImageCollection two = await client.GenerateImagesAsync("a red circle", 2, options);

        // The golden image cases all draw "a red circle"; the endpoint's template asks as they do.
        GeneratedMediaAssert.ImageMatches(image.ImageBytes.ToArray(), ImageCase.Generated!.Values(), "SDK ImageClient");
        Assert.Equal(2, two.Count);
        Assert.All(two, i => Assert.Equal(image.ImageBytes.ToArray(), i.ImageBytes.ToArray()));
    }

    [Fact]
    public async Task SdkImageClient_UrlFormat_IsAClearClientError()
    {
        var client = new ImageClient(MmServe.TestSupport.Server.Chat.Model, new ApiKeyCredential("dummy"), new OpenAIClientOptions { Endpoint = Endpoint() });
        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            client.GenerateImageAsync("a red circle", new ImageGenerationOptions { ResponseFormat = GeneratedImageFormat.Uri }));
        Assert.Equal(400, error.Status);
        Assert.Contains("b64_json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SdkAudioClient_SpeechAndTranscription()
    {
        var client = new AudioClient(MmServe.TestSupport.Server.Chat.Model, new ApiKeyCredential("dummy"), new OpenAIClientOptions { Endpoint = Endpoint() });

        BinaryData speech = await client.GenerateSpeechAsync("one low beep", new GeneratedSpeechVoice("default"),
            new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav });
        GeneratedMediaAssert.WavMatches(speech.ToArray(), AudioCase.Generated!.Values(), 16000, "SDK speech");

        // The endpoint asks the model's transcription prompt after the audio, exactly like this golden case.
        var spoken = TranscriptionCases.Default;
        using var wav = new MemoryStream(TranscriptionCases.AudioBytes(spoken));
        AudioTranscription transcription = await client.TranscribeAudioAsync(wav, "clip.wav");
        Assert.Equal(spoken.CompletionText, transcription.Text);
    }

    private static ChatCompletionOptions AudioOptions(ChatOutputAudioFormat format) => new()
    {
        Temperature = 0,
        MaxOutputTokenCount = 48,
        ResponseModalities = ChatResponseModalities.Text | ChatResponseModalities.Audio,
        AudioOptions = new ChatAudioOptions(new ChatOutputAudioVoice("default"), format),
    };

    private static string UserText(GoldenCase golden)
    {
        var user = golden.Messages.Last(m => (string)m!["role"]! == "user")!;
        Assert.Equal(1, golden.Messages.Count(m => (string)m!["role"]! != "system") );
        return (string)user["content"]![0]!["text"]!;
    }

    private ChatClient ChatClient() => new(MmServe.TestSupport.Server.Chat.Model, new ApiKeyCredential("dummy-key"), new OpenAIClientOptions { Endpoint = Endpoint() });

    private Uri Endpoint() => new(server.Factory.BaseAddress, "v1");
}
