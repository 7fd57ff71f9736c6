using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MmServe.Abstractions;
using MmServe.Serving;
using MmServe.Engine;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// A client that disconnects mid-stream stops its decoding: the engine releases the request's slot within a
/// step or two. Each forward pass is slowed to 20 ms so the request would otherwise run for seconds.
/// </summary>
public sealed class ClientDisconnectTests : IAsyncLifetime
{
    private const int MaxTokens = 200;
    private static readonly TimeSpan StepDelay = TimeSpan.FromMilliseconds(20);

    private readonly MmServeFactory _factory = new(services: services =>
        services.AddSingleton<IModelExecutorFactory>(sp =>
            new SlowExecutorFactory(ActivatorUtilities.CreateInstance<OnnxExecutorFactory>(sp), StepDelay)));

    public Task InitializeAsync() => _factory.StartAndWaitReadyAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task ClientDisconnectMidStream_StopsDecodingAndFreesTheSlot()
    {
        var engine = _factory.Services.GetRequiredService<IGenerationEngine>();
        var before = engine.Stats;
        Assert.Equal(0, before.Running);

        var body = Chat.Request("Count from one to five.", MaxTokens);
        body["ignore_eos"] = true;
        body["stream"] = true;
        body["return_token_ids"] = true; // one chunk per step even when a token adds no text (e.g. a repeated EOS)
        // No draining: disposing an unfinished response must close the connection, as a vanished client would.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, ResponseDrainTimeout = TimeSpan.Zero })
        {
            BaseAddress = _factory.BaseAddress,
        };
        using var cancel = new CancellationTokenSource();
        var response = await Chat.PostStreamingAsync(client, body, cancel.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
        using (var reader = new StreamReader(stream))
        {
            // Wait until tokens are flowing: the role chunk plus a few content chunks.
            int events = 0;
            while (events < 4 && await reader.ReadLineAsync(cancel.Token) is { } line)
            {
                events += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }

            Assert.Equal(4, events);
            Assert.Equal(1, engine.Stats.Running);
            await cancel.CancelAsync();
        }

        response.Dispose();
        long stepsAtDisconnect = engine.Stats.Steps;

        var released = await WaitForAsync(() => engine.Stats is { Running: 0 } s && s.ReleasedSlots == before.ReleasedSlots + 1, TimeSpan.FromSeconds(2));
        Assert.True(released, $"slot not released: {engine.Stats}");
        long stepsAtRelease = engine.Stats.Steps;

        // Decoding stopped within a couple of steps of the disconnect (server-side detection included) ...
        Assert.True(stepsAtRelease - stepsAtDisconnect <= 5, $"{stepsAtRelease - stepsAtDisconnect} steps after the disconnect");

        // ... long before max_tokens, and nothing runs afterwards.
        Assert.True(stepsAtRelease - before.Steps < MaxTokens / 4, $"{stepsAtRelease - before.Steps} steps in all");
        await Task.Delay(StepDelay * 5);
        Assert.Equal(stepsAtRelease, engine.Stats.Steps);
        Assert.Empty(_factory.Logs.ErrorsWithExceptions());
    }

    private static async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(5);
        }

        return condition();
    }
}
