using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// tiny-florence2 as a "Florence2Models" entry next to the default chat model: /v1/chat/completions with one image
/// and a task text (&lt;CAPTION&gt;, &lt;DETAILED_CAPTION&gt;, &lt;OCR&gt;, free text) gives transformers.js's prompt
/// ids, greedy ids and text for every golden case, alone and all in flight at once (with mmserve-tiny chat requests
/// in flight too); requests Florence-2 cannot answer are OpenAI 400s naming the field.
/// </summary>
public sealed class Florence2ChatTests : IAsyncLifetime
{
    private const string Florence2 = Florence2Golden.Model;

    private readonly MmServeFactory _factory = new(new Dictionary<string, string?>
    {
        ["Florence2Models:0:Id"] = Florence2,
        ["Florence2Models:0:Path"] = ConformanceGolden.ModelPath(Florence2),
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

    private static JsonObject Request(Florence2GoldenCase c)
    {
        var body = Chat.WithImages(c.Text, "data:image/png;base64," + Convert.ToBase64String(c.ReadImage()));
        body["model"] = Florence2;
        body["max_tokens"] = Florence2Golden.MaxNewTokens;
        body["return_token_ids"] = true;
        return body;
    }

    private static async Task AssertGoldenAsync(Florence2GoldenCase c, HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{c.Id}: {body}");
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        Assert.Equal(Florence2, root.GetProperty("model").GetString());
        var choice = root.GetProperty("choices")[0];
        var ids = Chat.Ints(choice.GetProperty("token_ids"));
        Assert.True(c.OutputIds.SequenceEqual(ids), $"{c.Id} ({c.Image}, {c.Text}): [{string.Join(", ", ids)}] != golden [{string.Join(", ", c.OutputIds)}]");
        Assert.Equal(c.PromptIds, Chat.Ints(root.GetProperty("prompt_token_ids")));
        Assert.Equal(c.OutputText, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(c.OutputIds[^1] == 2 ? "stop" : "length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(ids.Length, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task AllGoldenCases_OneAtATime_OverHttp()
    {
        var cases = Florence2Golden.Cases();
        Assert.True(cases.Count >= 20);
        foreach (var c in cases)
        {
            using var response = await Chat.PostAsync(_client, Request(c));
            await AssertGoldenAsync(c, response);
        }
    }

    [Fact]
    public async Task AllGoldenCasesAndChatRequests_InFlightAtOnce_EachGiveTheirGoldens()
    {
        var cases = Florence2Golden.Cases();
        var chat = GoldenCases.TextAndImage.Take(4).ToList();

        var responses = await Task.WhenAll(
            cases.Select(c => Chat.PostAsync(_client, Request(c))).Concat(chat.Select(g => Chat.PostAsync(_client, g.ToRequest()))));

        for (int i = 0; i < cases.Count; i++)
        {
            using var response = responses[i];
            await AssertGoldenAsync(cases[i], response);
        }

        for (int i = 0; i < chat.Count; i++)
        {
            using var response = responses[cases.Count + i];
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            using var doc = JsonDocument.Parse(body);
            Assert.Equal(chat[i].CompletionTokenIds, Chat.Ints(doc.RootElement.GetProperty("choices")[0].GetProperty("token_ids")));
        }
    }

    [Fact]
    public async Task ModelsList_NamesTheFlorence2ModelAfterTheChatModel_WithItsCapabilities()
    {
        using var list = JsonDocument.Parse(await _client.GetStringAsync("v1/models"));
        Assert.Equal([Chat.Model, Florence2], list.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        using var card = JsonDocument.Parse(await _client.GetStringAsync($"v1/models/{Florence2}"));
        var capabilities = card.RootElement.GetProperty("capabilities");
        Assert.Equal(["image", "text"], capabilities.GetProperty("input_modalities").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["text"], capabilities.GetProperty("output_modalities").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(128, capabilities.GetProperty("max_context").GetInt32()); // config.json text_config.max_position_embeddings
    }

    [Fact]
    public async Task AMessageWithoutAnImage_IsA400NamingTheContent()
    {
        var body = Chat.Request("<CAPTION>");
        body["model"] = Florence2;

        using var response = await Chat.PostAsync(_client, body);

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content", "invalid_content");
    }

    [Fact]
    public async Task BytesThatAreNoImage_AreA400NamingTheImageUrl()
    {
        var body = Request(Florence2Golden.Cases()[0]);
        body["messages"]![0]!["content"]![0]!["image_url"]!["url"] = "data:image/png;base64," + Convert.ToBase64String("not an image"u8.ToArray());

        using var response = await Chat.PostAsync(_client, body);

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].image_url.url");
    }

    [Fact]
    public async Task AConversation_IsA400()
    {
        var body = Request(Florence2Golden.Cases()[0]);
        var messages = body["messages"]!.AsArray();
        messages.Insert(0, new JsonObject { ["role"] = "system", ["content"] = "You are helpful." });

        using var response = await Chat.PostAsync(_client, body);

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages", "unsupported_conversation");
    }

    [Fact]
    public async Task Streaming_IsA400NamingStream()
    {
        var body = Request(Florence2Golden.Cases()[0]);
        body["stream"] = true;

        using var response = await Chat.PostAsync(_client, body);

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "stream");
    }
}
