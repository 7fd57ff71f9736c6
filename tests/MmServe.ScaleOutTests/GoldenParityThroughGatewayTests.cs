using System.Net;
using System.Text.Json;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;
using MmServe.ScaleOutTests.Infrastructure;

namespace MmServe.ScaleOutTests;

/// <summary>
/// Through the gateway, greedy decoding still reproduces the bundle's golden cases token for token — over REST
/// (JSON and SSE) and gRPC (streamed and unary) — with every case in flight at once, spread over both workers.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GoldenParityThroughGatewayTests(Cluster cluster)
{
    private static IReadOnlyList<GoldenCase> Cases => GoldenCases.WithoutVideo;

    [Fact]
    public async Task Rest_Json_AllCasesAtOnce_MatchReferenceTokens_OnBothWorkers()
    {
        await cluster.EnsureAllUpAsync();
        var responses = await Task.WhenAll(Cases.Select(c => Chat.PostAsync(cluster.Rest, c.ToRequest())));
        var workers = new HashSet<string>();
        for (int i = 0; i < Cases.Count; i++)
        {
            using var response = responses[i];
            var (golden, body) = (Cases[i], await response.Content.ReadAsStringAsync());
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{golden.Id}: {(int)response.StatusCode} {body}");
            workers.Add(response.Headers.GetValues(Cluster.WorkerHeader).Single());
            using var doc = JsonDocument.Parse(body);
            var choice = doc.RootElement.GetProperty("choices")[0];
            Assert.Equal(golden.PromptTokenIds, Chat.Ints(doc.RootElement.GetProperty("prompt_token_ids")));
            Assert.True(golden.CompletionTokenIds.SequenceEqual(Chat.Ints(choice.GetProperty("token_ids"))), $"{golden.Id}: got {choice.GetProperty("token_ids")}");
            Assert.Equal(golden.CompletionText, choice.GetProperty("message").GetProperty("content").GetString());
            Assert.Equal(golden.FinishReason, choice.GetProperty("finish_reason").GetString());
        }

        Assert.Equal(cluster.Workers.Select(w => w.Name).Order(), workers.Order());
    }

    [Fact]
    public async Task Rest_Streamed_AllCasesAtOnce_MatchReferenceTokens()
    {
        await cluster.EnsureAllUpAsync();
        var streams = await Task.WhenAll(Cases.Select(async c =>
        {
            var request = c.ToRequest();
            request["stream"] = true;
            using var response = await Chat.PostStreamingAsync(cluster.Rest, request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await Chat.ReadEventsAsync(response);
        }));

        for (int i = 0; i < Cases.Count; i++)
        {
            var (golden, events) = (Cases[i], streams[i]);
            Assert.Equal("[DONE]", events[^1]);
            var choices = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0]).ToList();
            var tokens = choices.Where(c => c.TryGetProperty("token_ids", out _)).SelectMany(c => Chat.Ints(c.GetProperty("token_ids")));
            Assert.True(golden.CompletionTokenIds.SequenceEqual(tokens), $"{golden.Id}: got [{string.Join(",", tokens)}]");
            var text = string.Concat(choices.Select(c => c.GetProperty("delta")).Where(d => d.TryGetProperty("content", out var t) && t.ValueKind == JsonValueKind.String).Select(d => d.GetProperty("content").GetString()));
            Assert.Equal(golden.CompletionText, text);
            Assert.Equal(golden.FinishReason, choices[^1].GetProperty("finish_reason").GetString());
        }
    }

    [Fact]
    public async Task Grpc_StreamedAndUnary_AllCasesAtOnce_MatchReferenceTokens()
    {
        await cluster.EnsureAllUpAsync();
        var streamedTask = Task.WhenAll(Cases.Select(c => StreamedChat.ReadAsync(cluster.Grpc, GrpcGolden.ToRequest(c))));
        var unaryTask = Task.WhenAll(Cases.Select(c => cluster.Grpc.ChatAsync(GrpcGolden.ToRequest(c)).ResponseAsync));
        var (streamed, unary) = (await streamedTask, await unaryTask);

        for (int i = 0; i < Cases.Count; i++)
        {
            var golden = Cases[i];
            var (chat, response) = (streamed[i], unary[i]);
            Assert.Equal(ChatChunk.EventOneofCase.Finished, chat.Chunks[^1].EventCase);
            Assert.Equal(golden.PromptTokenIds, chat.Started.PromptTokenIds);
            Assert.True(golden.CompletionTokenIds.SequenceEqual(chat.TokenIds), $"{golden.Id} streamed: got [{string.Join(",", chat.TokenIds)}]");
            Assert.Equal(golden.CompletionText, chat.Text);
            Assert.Equal(golden.PromptTokenIds, response.PromptTokenIds);
            Assert.True(golden.CompletionTokenIds.SequenceEqual(response.TokenIds), $"{golden.Id} unary: got [{string.Join(",", response.TokenIds)}]");
            Assert.Equal(golden.CompletionText, response.Text);
        }
    }
}
