using Grpc.Net.Client;
using MmServe.Grpc.V1;

namespace MmServe.GrpcTests.Infrastructure;

/// <summary>One real server (REST and gRPC on free ports) shared by a test class, with a gRPC channel to it.</summary>
public sealed class GrpcServerFixture() : GrpcServer(new MmServeFactory());

/// <summary>
/// A real server with a gRPC channel to it, started and stopped with its owner (a fixture, or a test class that
/// needs its own configuration: <c>class X() : GrpcServer(new MmServeFactory(settings, services))</c>).
/// </summary>
public abstract class GrpcServer(MmServeFactory factory) : IAsyncLifetime
{
    public MmServeFactory Factory { get; } = factory;

    public GrpcChannel Channel { get; private set; } = null!;

    public ChatService.ChatServiceClient Chat => new(Channel);

    public ModelService.ModelServiceClient Models => new(Channel);

    public virtual async Task InitializeAsync()
    {
        await Factory.StartAndWaitReadyAsync();
        Channel = GrpcChannels.For(Factory);
    }

    public virtual async Task DisposeAsync()
    {
        Channel.Dispose();
        await Factory.DisposeAsync();
    }
}

public static class GrpcChannels
{
    /// <summary>
    /// A channel to the server's h2c endpoint. Several HTTP/2 connections may be opened, so more calls than
    /// Kestrel's 100 streams per connection can be in flight at once (the golden cases all together).
    /// </summary>
    public static GrpcChannel For(MmServeFactory factory) => GrpcChannel.ForAddress(factory.GrpcAddress, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        MaxReceiveMessageSize = 64 * 1024 * 1024,
        MaxSendMessageSize = null,
    });
}
