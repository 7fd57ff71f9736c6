using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>The SSE stream has OpenAI's exact shape.</summary>
public sealed class StreamingTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const int Tokens = 6;

    [Fact]
    public async Task StreamingChat_HasOpenAiChunkShape_AndEndsWithUsageChunkThenDone()
    {
        var body = LongAnswer();
        body["stream"] = true;
        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        using var response = await Chat.PostStreamingAsync(server.Client, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await Chat.ReadEventsAsync(response);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.True(chunks.Count >= 3, $"only {chunks.Count} chunks"); // role, (content...), finish, usage

        var first = chunks[0];
        Assert.StartsWith("chatcmpl-", first.GetProperty("id").GetString());
        foreach (var chunk in chunks)
        {
            Assert.Equal(first.GetProperty("id").GetString(), chunk.GetProperty("id").GetString());
            Assert.Equal(first.GetProperty("created").GetInt64(), chunk.GetProperty("created").GetInt64());
            Assert.Equal("chat.completion.chunk", chunk.GetProperty("object").GetString());
            Assert.Equal(Chat.Model, chunk.GetProperty("model").GetString());
            Assert.StartsWith("fp_", chunk.GetProperty("system_fingerprint").GetString());
        }

        // Every chunk but the usage chunk: exactly one choice, usage present and null.
        var usageChunk = chunks[^1];
        var choiceChunks = chunks[..^1];
        foreach (var chunk in choiceChunks)
        {
            Assert.Equal(JsonValueKind.Null, chunk.GetProperty("usage").ValueKind);
            var choice = Assert.Single(chunk.GetProperty("choices").EnumerateArray());
            Assert.Equal(0, choice.GetProperty("index").GetInt32());
            Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        }

        var firstDelta = choiceChunks[0].GetProperty("choices")[0].GetProperty("delta");
        Assert.Equal("assistant", firstDelta.GetProperty("role").GetString());
        Assert.All(choiceChunks.Skip(1), c => Assert.False(c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("role", out _)));

        var finishReasons = choiceChunks.Select(c => c.GetProperty("choices")[0].GetProperty("finish_reason")).ToList();
        Assert.All(finishReasons[..^1], f => Assert.Equal(JsonValueKind.Null, f.ValueKind));
        Assert.Equal("length", finishReasons[^1].GetString());
        Assert.Empty(choiceChunks[^1].GetProperty("choices")[0].GetProperty("delta").EnumerateObject());

        Assert.Empty(usageChunk.GetProperty("choices").EnumerateArray());
        var usage = usageChunk.GetProperty("usage");
        Assert.Equal(Tokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + Tokens, usage.GetProperty("total_tokens").GetInt32());

        // The deltas add up to the non-streamed answer of the same greedy request.
        var streamed = new StringBuilder();
        foreach (var chunk in choiceChunks)
        {
            if (chunk.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var content))
            {
                streamed.Append(content.GetString());
            }
        }

        using var plain = await Chat.PostAsync(server.Client, LongAnswer());
        var completion = await Chat.ReadJsonAsync(plain);
        Assert.Equal(completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), streamed.ToString());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), completion.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task StreamingChat_WithoutIncludeUsage_HasNoUsageChunk()
    {
        var body = LongAnswer();
        body["stream"] = true;
        using var response = await Chat.PostStreamingAsync(server.Client, body);
        var events = await Chat.ReadEventsAsync(response);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Single(c.GetProperty("choices").EnumerateArray()));
        Assert.All(chunks, c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task StreamingChat_WithLogprobsAndTokenIds_CarriesThemPerChunk()
    {
        var body = LongAnswer();
        body["stream"] = true;
        body["logprobs"] = true;
        body["top_logprobs"] = 2;
        body["return_token_ids"] = true;
        using var response = await Chat.PostStreamingAsync(server.Client, body);
        var events = await Chat.ReadEventsAsync(response);
        var choices = events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0]).ToList();
        var withTokens = choices.Where(c => c.TryGetProperty("token_ids", out _)).ToList();
        Assert.Equal(Tokens, withTokens.Sum(c => c.GetProperty("token_ids").GetArrayLength()));
        foreach (var choice in withTokens)
        {
            var logprobs = choice.GetProperty("logprobs");
            Assert.Equal(choice.GetProperty("token_ids").GetArrayLength(), logprobs.GetProperty("content").GetArrayLength());
            Assert.Equal(JsonValueKind.Null, logprobs.GetProperty("refusal").ValueKind);
            Assert.All(logprobs.GetProperty("content").EnumerateArray(), e => Assert.Equal(2, e.GetProperty("top_logprobs").GetArrayLength()));
        }
    }

    [Fact]
    public async Task Chat_WithLogprobs_ReturnsOpenAiLogprobShape()
    {
        var body = LongAnswer();
        body["logprobs"] = true;
        body["top_logprobs"] = 3;
        body["return_token_ids"] = true;
        using var response = await Chat.PostAsync(server.Client, body);
        var completion = await Chat.ReadJsonAsync(response);
        var choice = completion.GetProperty("choices")[0];
        var tokenIds = Chat.Ints(choice.GetProperty("token_ids"));
        var logprobs = choice.GetProperty("logprobs");
        Assert.Equal(JsonValueKind.Null, logprobs.GetProperty("refusal").ValueKind);
        var entries = logprobs.GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(tokenIds.Length, entries.Count);
        Assert.Equal(Tokens, entries.Count);
        var text = new List<byte>();
        foreach (var entry in entries)
        {
            Assert.Equal(["token", "logprob", "bytes", "top_logprobs"], entry.EnumerateObject().Select(p => p.Name));
            var logprob = entry.GetProperty("logprob").GetSingle();
            Assert.True(logprob <= 0, $"logprob {logprob}");
            var bytes = entry.GetProperty("bytes").EnumerateArray().Select(b => (byte)b.GetInt32()).ToArray();
            Assert.Equal(Encoding.UTF8.GetString(bytes), entry.GetProperty("token").GetString());
            if (!IsSpecialTokenText(entry.GetProperty("token").GetString()!))
            {
                text.AddRange(bytes);
            }

            var top = entry.GetProperty("top_logprobs").EnumerateArray().ToList();
            Assert.Equal(3, top.Count);
            Assert.True(top[0].GetProperty("logprob").GetSingle() >= top[1].GetProperty("logprob").GetSingle());

            // Greedy: the chosen token is the most likely one.
            Assert.Equal(top[0].GetProperty("token").GetString(), entry.GetProperty("token").GetString());
            Assert.Equal(top[0].GetProperty("logprob").GetSingle(), logprob);
        }

        Assert.Equal(choice.GetProperty("message").GetProperty("content").GetString(), Encoding.UTF8.GetString([.. text]));
    }

    private static bool IsSpecialTokenText(string token) =>
        token.StartsWith("<|", StringComparison.Ordinal) && token.EndsWith("|>", StringComparison.Ordinal);

    /// <summary>A greedy request that runs exactly <see cref="Tokens"/> tokens whatever the model says.</summary>
    private static JsonObject LongAnswer()
    {
        var body = Chat.Request("Count from one to five.", Tokens);
        body["ignore_eos"] = true;
        return body;
    }
}
