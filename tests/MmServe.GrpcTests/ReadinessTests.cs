using Microsoft.Extensions.Hosting;
using MmServe.Serving;

namespace MmServe.GrpcTests;

/// <summary>Readiness (behind /health/ready and grpc.health.v1) turns off when shutdown begins, so balancers stop routing while requests drain.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public void Readiness_IsLostWhenTheHostStartsStopping()
    {
        var lifetime = new Lifetime();
        var readiness = new ModelReadiness(lifetime);
        Assert.False(readiness.IsReady);
        readiness.MarkReady();
        Assert.True(readiness.IsReady);
        lifetime.StopApplication();
        Assert.False(readiness.IsReady);
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        private readonly CancellationTokenSource _stopping = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => _stopping.Cancel();
    }
}
