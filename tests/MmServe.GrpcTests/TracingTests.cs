using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;
using OpenTelemetry.Trace;

namespace MmServe.GrpcTests;

/// <summary>A gRPC call carrying a W3C traceparent continues the client's trace: the server span, then "chat {model}" under it.</summary>
public sealed class TracingTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private readonly MmServeFactory _factory;
    private GrpcChannel _channel = null!;

    public TracingTests() =>
        _factory = new MmServeFactory(new Dictionary<string, string?> { ["Telemetry:Traces"] = "true" }, services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)));

    public async Task InitializeAsync()
    {
        await _factory.StartAndWaitReadyAsync();

        // This process's HttpClient is instrumented too; without a propagator the header goes out as the test wrote it.
        _channel = GrpcChannel.ForAddress(_factory.GrpcAddress, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ActivityHeadersPropagator = null },
        });
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task StreamChat_ContinuesTheCallersTrace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var headers = new Metadata { { "traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01" } };
        var chunks = 0;
        using (var call = new ChatService.ChatServiceClient(_channel).StreamChat(Requests.Text("Hello!", 4), headers))
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                chunks++;
            }
        }

        Assert.True(chunks > 1);
        List<Activity> spans = [];
        for (int i = 0; i < 100 && !spans.Any(s => s.TraceId == traceId && s.Kind == ActivityKind.Server); i++)
        {
            await Task.Delay(50);
            lock (_spans)
            {
                spans = [.. _spans];
            }
        }

        var server = Assert.Single(spans, s => s.TraceId == traceId && s.Kind == ActivityKind.Server);
        var chat = Assert.Single(spans, s => s.TraceId == traceId && s.DisplayName == $"chat {Chat.Model}");
        Assert.Equal(server.SpanId, chat.ParentSpanId);
        Assert.Equal(4, chat.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(chat.SpanId, Assert.Single(spans, s => s.TraceId == traceId && s.DisplayName == "write grpc").ParentSpanId);
    }
}
