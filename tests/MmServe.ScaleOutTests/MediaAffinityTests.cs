using System.Net;
using Google.Protobuf;
using MmServe.Grpc.V1;
using MmServe.ScaleOutTests.Infrastructure;

namespace MmServe.ScaleOutTests;

/// <summary>
/// The same image sent again and again — over REST as a data: URL and over gRPC as raw bytes — goes to the worker
/// that encoded it first while both workers are lightly loaded, so its encoder cache answers every repeat
/// (mmserve_encoder_cache_hits_total) and the other worker never sees the image.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class MediaAffinityTests(Cluster cluster)
{
    [Fact]
    public async Task RepeatedImage_HitsTheEncoderCacheOfOneWorker()
    {
        await cluster.EnsureAllUpAsync();
        var png = TestImages.SolidPng(64, 64, (byte)Random.Shared.Next(256), (byte)Random.Shared.Next(256), 77); // new to both caches
        var before = await CacheCountersAsync();

        var workers = new List<string>();
        for (int i = 0; i < 8; i++)
        {
            workers.Add(i % 2 == 0 ? await SendRestAsync(png) : await SendGrpcAsync(png));
        }

        var chosen = cluster.WorkerNamed(Assert.Single(workers.Distinct()));
        var other = cluster.Workers.Single(w => w != chosen);
        await Task.Delay(1000); // the Prometheus exporter caches a scrape for a moment
        var after = await CacheCountersAsync();
        Assert.Equal(8, after[chosen].Queries - before[chosen].Queries);
        Assert.Equal(7, after[chosen].Hits - before[chosen].Hits); // only the first request ran the encoder
        Assert.Equal(0, after[other].Queries - before[other].Queries);
    }

    private async Task<Dictionary<WorkerNode, (double Queries, double Hits)>> CacheCountersAsync()
    {
        var counters = new Dictionary<WorkerNode, (double, double)>();
        foreach (var worker in cluster.Workers)
        {
            counters[worker] = (
                await cluster.WorkerMetricAsync(worker, "mmserve_encoder_cache_queries_total"),
                await cluster.WorkerMetricAsync(worker, "mmserve_encoder_cache_hits_total"));
        }

        return counters;
    }

    private async Task<string> SendRestAsync(byte[] png)
    {
        using var response = await Chat.PostAsync(cluster.Rest, Chat.WithImages("What colour is the shape?", TestImages.DataUrl(png)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues(Cluster.WorkerHeader).Single();
    }

    private async Task<string> SendGrpcAsync(byte[] png)
    {
        var message = new Message { Role = Role.User };
        message.Content.Add(new ContentPart { Media = new MediaInput { MimeType = "image/png", Data = ByteString.CopyFrom(png) } });
        message.Content.Add(new ContentPart { Text = "What colour is the shape?" });
        var request = new ChatRequest { Model = Chat.Model, Sampling = new SamplingParams { Temperature = 0, MaxTokens = 4 } };
        request.Messages.Add(message);
        using var call = cluster.Grpc.ChatAsync(request);
        await call.ResponseAsync;
        return (await call.ResponseHeadersAsync).GetValue(Cluster.WorkerHeader.ToLowerInvariant())!;
    }
}
