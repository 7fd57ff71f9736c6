using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;

namespace MmServe.FunctionalTests.ToolCalling;

/// <summary>Microsoft.Extensions.AI's function-invoking IChatClient, over the OpenAI SDK pointed at the server, runs a whole tool loop.</summary>
public sealed class ExtensionsAiToolLoopTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task ExtensionsAiFunctionInvokingLoop_CallsTheToolOnceThenAnswers()
    {
        int invoked = 0;
        string? colorSeen = null;
        var countShapes = AIFunctionFactory.Create(
            (string color) =>
            {
                Interlocked.Increment(ref invoked);
                colorSeen = color;
                return 3;
            },
            "count_shapes",
            "Counts the shapes of a color.");
        using IChatClient client = new OpenAI.Chat.ChatClient(Chat.Model, new ApiKeyCredential("dummy-key"), new OpenAIClientOptions { Endpoint = new Uri(server.Factory.BaseAddress, "v1") })
            .AsIChatClient().AsBuilder().UseFunctionInvocation().Build();

        // RequireAny forces the first call (enforced by the grammar); the loop then sends the result back with the
        // tool mode reset, and the model answers.
        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "How many red shapes?")],
            new ChatOptions { Tools = [countShapes], ToolMode = ChatToolMode.RequireAny, Temperature = 0f, MaxOutputTokens = 150 });

        Assert.Equal(1, invoked);
        Assert.NotNull(colorSeen);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("count_shapes", call.Name);
        var result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal(call.CallId, result.CallId);
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
        Assert.False(string.IsNullOrEmpty(response.Text));
    }
}
