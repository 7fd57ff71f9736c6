using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Abstractions;
using MmServe.Serving;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>grpc.health.v1 says NOT_SERVING while the model warms up (forward passes slowed to 1 s), SERVING after.</summary>
public sealed class HealthBeforeReadyTests : IAsyncLifetime
{
    private readonly MmServeFactory _factory = new(services: services =>
        services.AddSingleton<IModelExecutorFactory>(sp =>
            new SlowExecutorFactory(ActivatorUtilities.CreateInstance<OnnxExecutorFactory>(sp), TimeSpan.FromSeconds(1))));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Health_IsNotServingUntilWarmedUp()
    {
        _factory.StartServer();
        using var channel = GrpcChannels.For(_factory);
        var health = new Health.HealthClient(channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);

        var readiness = _factory.Services.GetRequiredService<ModelReadiness>();
        Assert.True(await Wait.ForAsync(() => readiness.IsReady, TimeSpan.FromSeconds(30)), "never warmed up");
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
    }
}
