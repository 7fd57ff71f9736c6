using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>Non-streaming answers have OpenAI's exact shape, and the accepted request variants build the same prompts.</summary>
public sealed class ChatCompletionTests(ServerFixture server) : IClassFixture<ServerFixture>
{

    [Fact]
    public async Task Chat_ReturnsOpenAiCompletionShape()
    {
        using var response = await Chat.PostAsync(server.Client, Chat.Request("Hello!"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("X-Request-Id"));
        var root = await Chat.ReadJsonAsync(response);
        Assert.Equal(["id", "object", "created", "model", "choices", "usage", "system_fingerprint"], root.EnumerateObject().Select(p => p.Name));
        Assert.StartsWith("chatcmpl-", root.GetProperty("id").GetString());
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.InRange(root.GetProperty("created").GetInt64(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal(Chat.Model, root.GetProperty("model").GetString());
        var choice = Assert.Single(root.GetProperty("choices").EnumerateArray());
        Assert.Equal(["index", "message", "logprobs", "finish_reason"], choice.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        var message = choice.GetProperty("message");
        Assert.Equal(["role", "content", "refusal"], message.EnumerateObject().Select(p => p.Name));
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.String, message.GetProperty("content").ValueKind);
        Assert.Equal(JsonValueKind.Null, message.GetProperty("refusal").ValueKind);
        var usage = root.GetProperty("usage");
        Assert.Equal(["prompt_tokens", "completion_tokens", "total_tokens"], usage.EnumerateObject().Select(p => p.Name));
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task ImageUrlAsBareString_BuildsTheSamePromptAsTheObjectForm()
    {
        var golden = GoldenCases.ImageCaption;
        var body = golden.ToRequest();
        foreach (var part in body["messages"]!.AsArray().SelectMany(m => m!["content"]!.AsArray()))
        {
            if (part!["type"]!.GetValue<string>() == "image_url")
            {
                part["image_url"] = part["image_url"]!["url"]!.GetValue<string>();
            }
        }

        using var response = await Chat.PostAsync(server.Client, body);
        var root = await Chat.ReadJsonAsync(response);
        Assert.Equal(golden.PromptTokenIds, Chat.Ints(root.GetProperty("prompt_token_ids")));
        Assert.Equal(golden.CompletionTokenIds, Chat.Ints(root.GetProperty("choices")[0].GetProperty("token_ids")));
    }

    [Fact]
    public async Task StringContent_BuildsTheSamePromptAsATextPart()
    {
        var golden = GoldenCases.TextAndImage.First(c => !c.Messages.ToJsonString().Contains("image_url", StringComparison.Ordinal));
        var body = golden.ToRequest();
        foreach (var message in body["messages"]!.AsArray())
        {
            var parts = message!["content"]!.AsArray();
            message["content"] = string.Join("\n", parts.Select(p => p!["text"]!.GetValue<string>()));
        }

        using var response = await Chat.PostAsync(server.Client, body);
        var root = await Chat.ReadJsonAsync(response);
        Assert.Equal(golden.PromptTokenIds, Chat.Ints(root.GetProperty("prompt_token_ids")));
    }

    [Fact]
    public async Task DeveloperRole_IsRenderedAsSystem()
    {
        async Task<int[]> PromptFor(string role)
        {
            var body = Chat.Request("Hello!");
            body["return_token_ids"] = true;
            body["messages"]!.AsArray().Insert(0, new JsonObject { ["role"] = role, ["content"] = "You are a helpful assistant." });
            using var response = await Chat.PostAsync(server.Client, body);
            return Chat.Ints((await Chat.ReadJsonAsync(response)).GetProperty("prompt_token_ids"));
        }

        Assert.Equal(await PromptFor("system"), await PromptFor("developer"));
    }

    [Fact]
    public async Task ImageTokens_AreCountedInPromptTokens()
    {
        var red = TestImages.DataUrl(TestImages.SolidPng(20, 12, 255, 0, 0));
        using var one = await Chat.PostAsync(server.Client, Chat.WithImages("What colour is it?", red));
        using var two = await Chat.PostAsync(server.Client, Chat.WithImages("What colour is it?", red, red));
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        int promptOne = (await Chat.ReadJsonAsync(one)).GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        int promptTwo = (await Chat.ReadJsonAsync(two)).GetProperty("usage").GetProperty("prompt_tokens").GetInt32();

        // A second image adds tokens_per_item placeholders (16 for mmserve-tiny) plus a part separator.
        Assert.True(promptTwo - promptOne > 8, $"{promptOne} -> {promptTwo}");
    }
}
