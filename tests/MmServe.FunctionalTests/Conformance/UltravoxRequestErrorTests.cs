using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// Requests tiny-ultravox cannot serve are the client's 400 in OpenAI's error shape, and the model keeps serving:
/// clips outside what the reference defines (over 30 s, or too short for one frame), undecodable audio, images.
/// </summary>
public sealed class UltravoxRequestErrorTests
{
    private const string AudioParam = "messages[0].content[0].input_audio.data";

    [Fact]
    public async Task Clips_without_a_reference_and_other_media_are_400_and_the_model_still_serves()
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?>
        {
            ["Model:Path"] = ConformanceGolden.ModelPath("tiny-ultravox"),
            ["Limits:MaxRequestBodyBytes"] = (8 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();

        var tooLong = await PostAsync(client, AudioPart(MediaInputErrorTests.Wav(16000, 1, 16, samples: 31 * 16000)));
        await ErrorAssert.IsOpenAiErrorAsync(tooLong, HttpStatusCode.BadRequest, AudioParam, "audio_too_large");

        var tooShort = await PostAsync(client, AudioPart(MediaInputErrorTests.Wav(16000, 1, 16, samples: 150)));
        await ErrorAssert.IsOpenAiErrorAsync(tooShort, HttpStatusCode.BadRequest, AudioParam, "invalid_audio");

        var garbage = await PostAsync(client, AudioPart("RIFF, but nothing else"u8.ToArray()));
        await ErrorAssert.IsOpenAiErrorAsync(garbage, HttpStatusCode.BadRequest, AudioParam);

        var image = await PostAsync(client, new JsonObject
        {
            ["type"] = "image_url",
            ["image_url"] = new JsonObject { ["url"] = "data:image/png;base64,iVBORw0KGgo=" },
        });
        await ErrorAssert.IsOpenAiErrorAsync(image, HttpStatusCode.BadRequest, null);

        using var fine = await PostAsync(client, AudioPart(MediaInputErrorTests.Wav(16000, 1, 16, samples: 16000)));
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    private static JsonObject AudioPart(byte[] wav) => new()
    {
        ["type"] = "input_audio",
        ["input_audio"] = new JsonObject { ["data"] = Convert.ToBase64String(wav), ["format"] = "wav" },
    };

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, JsonObject part) =>
        client.PostAsJsonAsync("v1/chat/completions", new JsonObject
        {
            ["model"] = "tiny-ultravox",
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(part, new JsonObject { ["type"] = "text", ["text"] = "What do you hear?" }),
            }),
            ["max_tokens"] = 2,
        });
}
