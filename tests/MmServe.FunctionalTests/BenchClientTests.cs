using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MmServe.Bench.Client;
using MmServe.Bench.Workload;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// The benchmarks' load client (bench/MmServe.Bench/Client, linked in) reads each SSE chunk in one forward pass
/// instead of parsing a document; its token counts and timings must be those a full parse of the same stream gives.
/// </summary>
public sealed class BenchClientTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task StreamedRequest_SucceedsWithTheUsageCounts()
    {
        var client = new ChatStreamClient(server.Client, server.Client.BaseAddress!);
        var result = await client.SendAsync(Request(Body(tokenIds: false)), CancellationToken.None);

        Assert.True(result.Success, result.Error);
        Assert.Equal((14, 6), (result.PromptTokens, result.CompletionTokens));
        Assert.InRange(result.Ttft, double.Epsilon, result.Latency);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerStream_CountsWhatAFullParseOfTheSameBytesCounts(bool tokenIds)
    {
        using var response = await Chat.PostStreamingAsync(server.Client, Body(tokenIds));
        var bytes = await response.Content.ReadAsByteArrayAsync();

        var result = await ReadAsync(bytes);
        var chunks = Encoding.UTF8.GetString(bytes).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e["data: ".Length..]).Where(d => d != "[DONE]").Select(d => JsonDocument.Parse(d).RootElement).ToList();
        int contentChunks = chunks.Count(c => c.GetProperty("choices") is { } choices && choices.GetArrayLength() > 0
            && ((choices[0].GetProperty("delta").TryGetProperty("content", out var text) && text.GetString() is { Length: > 0 })
                || (choices[0].TryGetProperty("token_ids", out var ids) && ids.GetArrayLength() > 0)));
        var usage = chunks[^1].GetProperty("usage");

        Assert.True(result.Success, result.Error);
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), result.CompletionTokens);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), result.PromptTokens);
        Assert.True(contentChunks >= 1, "no content chunk");
        Assert.Equal(contentChunks - 1, result.Itls.Count);
    }

    [Fact]
    public async Task EventStream_CountsContentChunksAndIgnoresCommentsAndCarriageReturns()
    {
        var stream = string.Concat(
            ": keep-alive\r\n\r\n",
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\r\n\r\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n",
            "data:{\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"c\"}}]}\n\n",
            "data: [DONE]\n\n");

        var result = await ReadAsync(Encoding.UTF8.GetBytes(stream));

        Assert.True(result.Success, result.Error);
        Assert.Equal(2, result.Itls.Count);
        Assert.Equal(3, result.CompletionTokens); // no usage chunk: one token per content chunk
    }

    [Fact]
    public async Task EventStream_WithAnErrorEvent_FailsWithItsMessage()
    {
        var stream = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"engine stopped\"}}\n\n";

        var result = await ReadAsync(Encoding.UTF8.GetBytes(stream));

        Assert.False(result.Success);
        Assert.Equal("stream error: engine stopped", result.Error);
    }

    [Fact]
    public async Task EventStream_EndingBeforeDone_IsAFailure()
    {
        var result = await ReadAsync("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"u8.ToArray());

        Assert.False(result.Success);
        Assert.Equal("stream closed before [DONE]", result.Error);
    }

    [Fact]
    public async Task BadRequest_IsAFailureWithTheServersMessage()
    {
        var client = new ChatStreamClient(server.Client, server.Client.BaseAddress!);
        var result = await client.SendAsync(new BenchRequest(3, false, "p", "{\"model\":"u8.ToArray()), CancellationToken.None);

        Assert.False(result.Success);
        Assert.Equal(3, result.Index);
        Assert.StartsWith("HTTP 400", result.Error);
    }

    [Theory]
    [InlineData("""{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""", false)]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":"hi"},"logprobs":null}]}""", true)]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":"\""}}]}""", true)]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":null}}]}""", false)]
    [InlineData("""{"id":"\"content\":\"x\"","choices":[{"delta":{"role":"assistant"}}]}""", false)]
    [InlineData("""{"choices":[{"delta":{"content":""},"token_ids":[]}]}""", false)]
    [InlineData("""{"choices":[{"delta":{"content":""},"token_ids":[42]}]}""", true)]
    [InlineData("""{"choices":[{"delta":{}},{"delta":{"content":"second choice"}}]}""", false)]
    [InlineData("""{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}""", false)]
    [InlineData("""{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"content":"x"}}]}}]}""", false)]
    public void Chunk_HasContentOnlyForTextOrTokenIdsOfItsFirstChoice(string json, bool content)
    {
        var scan = ChunkScan.Read(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(content, scan.HasContent);
        Assert.False(scan.IsError);
    }

    [Fact]
    public void UsageChunk_GivesBothCounts()
    {
        var scan = ChunkScan.Read(new ReadOnlySequence<byte>("""{"id":"x","choices":[],"usage":{"prompt_tokens":17,"total_tokens":40,"completion_tokens":23,"prompt_tokens_details":{"cached_tokens":0}}}"""u8.ToArray()));

        Assert.Equal(17, scan.PromptTokens);
        Assert.Equal(23, scan.CompletionTokens);
    }

    [Theory]
    [InlineData("""{"error":{"message":"model overloaded","type":"server_error","code":null}}""", "model overloaded")]
    [InlineData("""{"error":"plain"}""", "plain")]
    public void ErrorChunk_IsAnErrorWithItsMessage(string json, string message)
    {
        var scan = ChunkScan.Read(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)));

        Assert.True(scan.IsError);
        Assert.Equal(message, scan.ErrorMessage);
    }

    [Fact]
    public void ChunkSplitAcrossBufferSegments_ReadsAsOne()
    {
        var bytes = """{"choices":[{"delta":{"content":"split here"},"token_ids":[1]}],"usage":{"prompt_tokens":3,"completion_tokens":4}}"""u8.ToArray();
        for (int cut = 1; cut < bytes.Length; cut++)
        {
            var scan = ChunkScan.Read(TwoSegments(bytes, cut));
            Assert.True(scan.HasContent, $"cut at {cut}");
            Assert.Equal((3, 4), (scan.PromptTokens, scan.CompletionTokens));
        }
    }

    [Fact]
    public void NotAnObject_IsAJsonError() =>
        Assert.ThrowsAny<JsonException>(() => ChunkScan.Read(new ReadOnlySequence<byte>("[1]"u8.ToArray())));

    private static BenchRequest Request(JsonObject body) => new(0, false, "p", Encoding.UTF8.GetBytes(body.ToJsonString()));

    /// <summary>The client's reader over a whole body, read in small pieces so events straddle reads.</summary>
    private static Task<RequestResult> ReadAsync(byte[] body) =>
        ChatStreamClient.ReadEventsAsync(Request(new JsonObject()), PipeReader.Create(new MemoryStream(body), new StreamPipeReaderOptions(bufferSize: 7, minimumReadSize: 7)),
            System.Diagnostics.Stopwatch.GetTimestamp(), CancellationToken.None);

    private static JsonObject Body(bool tokenIds)
    {
        var body = Chat.Request("Count from one to five.", 6);
        body["ignore_eos"] = true;
        body["stream"] = true;
        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        if (tokenIds)
        {
            body["return_token_ids"] = true;
        }

        return body;
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int cut)
    {
        var first = new Segment(bytes.AsMemory(0, cut), 0);
        var second = first.Append(bytes.AsMemory(cut));
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
