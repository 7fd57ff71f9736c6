using Grpc.Core;
using MmServe.Grpc.V1;

namespace MmServe.GrpcTests.Infrastructure;

/// <summary>A whole StreamChat call, read to its end: the chunks in order and what they add up to.</summary>
public sealed record StreamedChat(IReadOnlyList<ChatChunk> Chunks)
{
    public ChatStarted Started => Chunks[0].Started;

    public ChatFinished Finished => Chunks[^1].Finished;

    public string Text => string.Concat(Deltas.Select(d => d.Text));

    public int[] TokenIds => [.. Deltas.SelectMany(d => d.TokenIds)];

    public IReadOnlyList<GeneratedMedia> Media => [.. Chunks.Where(c => c.EventCase == ChatChunk.EventOneofCase.Media).Select(c => c.Media)];

    public IEnumerable<Delta> Deltas => Chunks.Where(c => c.EventCase == ChatChunk.EventOneofCase.Delta).Select(c => c.Delta);

    public static async Task<StreamedChat> ReadAsync(ChatService.ChatServiceClient client, ChatRequest request, CallOptions options = default)
    {
        using var call = client.StreamChat(request, options);
        var chunks = new List<ChatChunk>();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync())
        {
            chunks.Add(chunk);
        }

        return new StreamedChat(chunks);
    }
}
