using Microsoft.Extensions.DependencyInjection;
using MmServe.Api.Grpc;

namespace MmServe.GrpcTests.Infrastructure;

/// <summary>
/// The gRPC address of a running <see cref="MmServeFactory"/>. It is read from the Api's internal
/// <see cref="GrpcListenAddress"/>, which this assembly may see (InternalsVisibleTo) and MmServe.TestSupport.Server
/// may not, so it is an extension here rather than a member of the factory.
/// </summary>
public static class MmServeFactoryGrpc
{
    extension(MmServeFactory factory)
    {
        /// <summary>http://127.0.0.1:port/ of the gRPC (h2c) endpoint of the running server.</summary>
        public Uri GrpcAddress => factory.Services.GetRequiredService<GrpcListenAddress>().Address
            ?? throw new InvalidOperationException("The gRPC endpoint is not bound (Grpc:Enabled=false?).");
    }
}
