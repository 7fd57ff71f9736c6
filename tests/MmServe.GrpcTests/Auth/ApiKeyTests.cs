using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests.Auth;

/// <summary>
/// With keys on, gRPC calls carry the key as "authorization: Bearer KEY" metadata. Without it, or with a wrong one,
/// every mmserve.v1 method and reflection answer UNAUTHENTICATED (never reaching the engine); grpc.health.v1 stays open.
/// </summary>
public sealed class ApiKeyTests : IAsyncLifetime
{
    private readonly TestApiKeys _keys = new();
    private readonly GrpcServer _server;

    public ApiKeyTests() => _server = new Server(new MmServeFactory(_keys.Settings(), CountingEngine.Register));

    private CountingEngine Engine => _server.Factory.Services.GetRequiredService<CountingEngine>();

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _keys.Dispose();
    }

    private static CallOptions Key(string key) => new(new Metadata { { "authorization", $"Bearer {key}" } });

    [Fact]
    public async Task StreamChatAndListModels_WithKeys_Answer()
    {
        var chat = await StreamedChat.ReadAsync(_server.Chat, Requests.Text("Count from one to five.", 20), Key(TestApiKeys.Alice));
        Assert.Equal("one two three four five", chat.Text);

        var models = await _server.Models.ListModelsAsync(new ListModelsRequest(), Key(TestApiKeys.Bob));
        Assert.Equal(Chat.Model, Assert.Single(models.Models).Id);
    }

    [Theory]
    [InlineData(null, "missing_api_key")]
    [InlineData(TestApiKeys.Wrong, "invalid_api_key")]
    public async Task WithoutAValidKey_EveryMethodIsUnauthenticated_AndNothingReachesTheEngine(string? key, string code)
    {
        int before = Engine.Submitted;
        var options = key is null ? default : Key(key);

        var streamed = await Assert.ThrowsAsync<RpcException>(() => StreamedChat.ReadAsync(_server.Chat, Requests.Text("Hello!"), options));
        var unary = await Assert.ThrowsAsync<RpcException>(() => _server.Chat.ChatAsync(Requests.Text("Hello!"), options).ResponseAsync);
        var models = await Assert.ThrowsAsync<RpcException>(() => _server.Models.ListModelsAsync(new ListModelsRequest(), options).ResponseAsync);

        foreach (var e in new[] { streamed, unary, models })
        {
            RpcAssert.AssertStatus(e, StatusCode.Unauthenticated, code);
            Assert.DoesNotContain(TestApiKeys.Wrong, e.Status.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(before, Engine.Submitted);
    }

    [Fact]
    public async Task Health_StaysOpen()
    {
        var health = new Health.HealthClient(_server.Channel);

        var response = await health.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Reflection_FollowsTheKeySetting()
    {
        var reflection = new ServerReflection.ServerReflectionClient(_server.Channel);

        var refused = await Assert.ThrowsAsync<RpcException>(() => ListServicesAsync(reflection, default));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("mmserve.v1.ChatService", await ListServicesAsync(reflection, Key(TestApiKeys.Alice)));
    }

    private static async Task<List<string>> ListServicesAsync(ServerReflection.ServerReflectionClient client, CallOptions options)
    {
        using var call = client.ServerReflectionInfo(options);
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        return [.. call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name)];
    }

    private sealed class Server(MmServeFactory factory) : GrpcServer(factory);
}
