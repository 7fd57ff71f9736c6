using System.Net;
using Grpc.Core;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;
using MmServe.ScaleOutTests.Infrastructure;

namespace MmServe.ScaleOutTests;

/// <summary>
/// A worker with API keys on behind the gateway: the gateway's own reads of the worker (/v1/models, which routing by
/// model needs) carry Gateway:WorkerApiKey, so the worker joins routing; clients' keys go through the gateway
/// untouched (Authorization over REST and as gRPC metadata, x-api-key) and the worker alone decides.
/// </summary>
public sealed class ApiKeysThroughGatewayTests(KeyedWorkerBehindGateway cluster) : IClassFixture<KeyedWorkerBehindGateway>
{
    [Theory]
    [InlineData("Authorization", $"Bearer {TestApiKeys.Alice}", HttpStatusCode.OK, null)]
    [InlineData("x-api-key", TestApiKeys.Alice, HttpStatusCode.OK, null)]
    [InlineData("Authorization", $"Bearer {TestApiKeys.Wrong}", HttpStatusCode.Unauthorized, "invalid_api_key")]
    [InlineData(null, null, HttpStatusCode.Unauthorized, "missing_api_key")]
    public async Task RestChat_ThroughTheGateway_IsCheckedByTheWorker(string? header, string? value, HttpStatusCode expected, string? code)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat.Route) { Content = JsonContent(Chat.Request("Hello!", maxTokens: 2)) };
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await cluster.Rest.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        if (code is not null)
        {
            Assert.Equal(code, (await Chat.ReadJsonAsync(response)).GetProperty("error").GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task GrpcChat_ThroughTheGateway_CarriesTheKeyAsMetadata()
    {
        var client = new ChatService.ChatServiceClient(cluster.Channel);
        var request = GrpcGolden.FromOpenAi(Chat.Request("Hello!", maxTokens: 2), "through-the-gateway");

        var answer = await client.ChatAsync(request, new Metadata { { "authorization", $"Bearer {TestApiKeys.Alice}" } });
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.ChatAsync(request).ResponseAsync);

        Assert.NotEmpty(answer.TokenIds);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    private static StringContent JsonContent(System.Text.Json.Nodes.JsonNode body) =>
        new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
}
