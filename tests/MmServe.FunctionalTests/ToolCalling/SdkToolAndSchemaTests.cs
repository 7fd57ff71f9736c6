using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using MmServe.FunctionalTests.StructuredOutputs;

namespace MmServe.FunctionalTests.ToolCalling;

/// <summary>The OpenAI .NET SDK's structured-output and tool helpers against the running server.</summary>
public sealed class SdkToolAndSchemaTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private ChatClient NewClient() =>
        new(Chat.Model, new ApiKeyCredential("dummy-key"), new OpenAIClientOptions { Endpoint = new Uri(server.Factory.BaseAddress, "v1") });

    [Fact]
    public async Task SdkJsonSchemaFormat_AnswerValidatesAgainstTheSchema()
    {
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("shape", BinaryData.FromString(TestSchemas.Shape), jsonSchemaIsStrict: true),
            Temperature = 0f,
            MaxOutputTokenCount = 120,
        };

        ChatCompletion completion = await NewClient().CompleteChatAsync([new UserChatMessage("Describe a shape.")], options);

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        SchemaValidation.AssertValid(TestSchemas.Shape, completion.Content[0].Text);
    }

    [Fact]
    public async Task SdkRequiredTool_CallThenToolResult_GivesAFinalAnswer()
    {
        var client = NewClient();
        var tool = ChatTool.CreateFunctionTool("count_shapes", "Counts the shapes of a color.", BinaryData.FromString(ToolRequests.CountParameters));
        var options = new ChatCompletionOptions { Tools = { tool }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), Temperature = 0f, MaxOutputTokenCount = 150 };
        List<OpenAI.Chat.ChatMessage> messages = [new UserChatMessage("How many red shapes?")];

        ChatCompletion first = await client.CompleteChatAsync(messages, options);

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("count_shapes", call.FunctionName);
        SchemaValidation.AssertValid(ToolRequests.CountParameters, call.FunctionArguments.ToString());

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "3"));
        options.ToolChoice = ChatToolChoice.CreateNoneChoice();
        ChatCompletion answer = await client.CompleteChatAsync(messages, options);

        Assert.NotEqual(ChatFinishReason.ToolCalls, answer.FinishReason);
        Assert.Empty(answer.ToolCalls);
        Assert.False(string.IsNullOrEmpty(answer.Content[0].Text));
    }

    [Fact]
    public async Task SdkStreamingRequiredTool_UpdatesAssembleToTheNonStreamedCall()
    {
        var client = NewClient();
        var tool = ChatTool.CreateFunctionTool("zoom", "Zooms into a region.", BinaryData.FromString(ToolRequests.ZoomParameters));
        var options = new ChatCompletionOptions { Tools = { tool }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), AllowParallelToolCalls = false, Temperature = 0f, MaxOutputTokenCount = 150 };
        List<OpenAI.Chat.ChatMessage> messages = [new UserChatMessage("Zoom into the corner.")];

        ChatCompletion whole = await client.CompleteChatAsync(messages, options);
        string? name = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var piece in update.ToolCallUpdates)
            {
                Assert.Equal(0, piece.Index);
                name ??= piece.FunctionName;
                arguments.Append(piece.FunctionArgumentsUpdate?.ToString());
            }

            if (update.FinishReason is { } reason)
            {
                finish = reason;
            }
        }

        var call = Assert.Single(whole.ToolCalls);
        Assert.Equal(call.FunctionName, name);
        Assert.Equal(call.FunctionArguments.ToString(), arguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }
}
