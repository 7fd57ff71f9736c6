using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>The shape of a StreamChat answer: started, deltas, finished; ids, logprobs, stop strings.</summary>
public sealed class StreamingTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>
{
    [Fact]
    public async Task Stream_StartsWithStartedAndEndsWithFinishedUsage()
    {
        var golden = GoldenCases.ImageCaption;
        var request = GrpcGolden.ToRequest(golden);
        request.RequestId = "";
        request.ReturnPromptTokenIds = false;
        var chat = await StreamedChat.ReadAsync(server.Chat, request);

        Assert.Equal(Chat.Model, chat.Started.Model);
        Assert.StartsWith("fp_", chat.Started.SystemFingerprint, StringComparison.Ordinal);
        Assert.True(chat.Started.Created > 0);
        Assert.Empty(chat.Started.PromptTokenIds);
        Assert.True(chat.Chunks.Count >= 3, $"{chat.Chunks.Count} chunks");
        Assert.All(chat.Chunks.Skip(1).SkipLast(1), c => Assert.Equal(ChatChunk.EventOneofCase.Delta, c.EventCase));

        // The server names the request when the client does not, the same in every chunk.
        var id = chat.Chunks[0].RequestId;
        Assert.False(string.IsNullOrEmpty(id));
        Assert.All(chat.Chunks, c => Assert.Equal(id, c.RequestId));
        Assert.Equal(golden.CompletionText, chat.Text);
        Assert.Equal(golden.CompletionTokenIds.Length, chat.Finished.Usage.CompletionTokens);
    }

    [Fact]
    public async Task Logprobs_OnePerTokenWithAlternatives()
    {
        var request = Requests.Text("Count from one to five.", 6);
        request.Logprobs = true;
        request.TopLogprobs = 3;
        var chat = await StreamedChat.ReadAsync(server.Chat, request);
        var logprobs = chat.Deltas.SelectMany(d => d.Logprobs).ToList();
        Assert.Equal(chat.TokenIds, logprobs.Select(l => l.TokenId));
        Assert.All(logprobs, l =>
        {
            Assert.Equal(3, l.TopLogprobs.Count);
            Assert.Equal(l.TokenId, l.TopLogprobs[0].TokenId); // greedy: the chosen token is the most likely
            Assert.True(l.Logprob <= 0);
        });
    }

    [Fact]
    public async Task Unary_EqualsTheConcatenatedStream()
    {
        var request = Requests.Text("Count from one to five.", 12);
        var chat = await StreamedChat.ReadAsync(server.Chat, request);
        var response = await server.Chat.ChatAsync(request);
        Assert.Equal(chat.Text, response.Text);
        Assert.Equal(chat.TokenIds, response.TokenIds);
        Assert.Equal(chat.Finished.Reason, response.FinishReason);
        Assert.Equal(chat.Finished.Usage, response.Usage);
    }

    [Fact]
    public async Task StopString_EndsTheAnswerWithoutIt()
    {
        var request = Requests.Text("Count from one to five.", 40);
        var full = await server.Chat.ChatAsync(request);
        var words = full.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(words.Length >= 3, full.Text);

        request.Sampling.Stop.Add(words[2]);
        var stopped = await server.Chat.ChatAsync(request);
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.DoesNotContain(words[2], stopped.Text, StringComparison.Ordinal);
        Assert.StartsWith(stopped.Text.TrimEnd(), full.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxTokens_EndsWithLength()
    {
        var response = await server.Chat.ChatAsync(Requests.Text("Count from one to five.", 2));
        Assert.Equal(FinishReason.Length, response.FinishReason);
        Assert.Equal(2, response.TokenIds.Count);
    }
}
