using System.ClientModel;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using SdkChatMessage = OpenAI.Chat.ChatMessage;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using ChatTool = OpenAI.Chat.ChatTool;

namespace MmServe.FunctionalTests.ToolCalling;

/// <summary>
/// The cascade end to end against mmserve-tiny-tools: the model calls a tool for a held-out question (tool_choice
/// auto), the client runs it on the image's scene, sends the result back, and the model answers from it — through
/// the OpenAI .NET SDK and through Microsoft.Extensions.AI's function-invoking IChatClient.
/// </summary>
public sealed class ToolModelLoopTests(ToolModelServerFixture server) : IClassFixture<ToolModelServerFixture>
{
    /// <summary>Two held-out call cases per tool.</summary>
    public static TheoryData<string> CallCases => [.. ToolModel.HeldOut.Where(c => c.ExpectedCall is not null)
        .GroupBy(c => c.ExpectedCall!["name"]!.GetValue<string>()).SelectMany(g => g.Take(2)).Select(c => c.Id)];

    private static ToolCase Case(string id) => ToolModel.HeldOut.Single(c => c.Id == id);

    [Theory]
    [MemberData(nameof(CallCases))]
    public async Task OpenAiSdk_CallThenToolResultThenAnswer(string id)
    {
        var c = Case(id);
        var client = new ChatClient(ToolModel.Id, new ApiKeyCredential("dummy-key"), new OpenAIClientOptions { Endpoint = new Uri(server.Factory.BaseAddress, "v1") });
        var options = new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 96 };
        foreach (var tool in c.Tools)
        {
            var f = tool!["function"]!;
            options.Tools.Add(ChatTool.CreateFunctionTool(f["name"]!.GetValue<string>(), f["description"]!.GetValue<string>(), BinaryData.FromString(f["parameters"]!.ToJsonString())));
        }

        List<SdkChatMessage> messages = [.. c.Messages.Select(m => ToSdk(m!))];
        ChatCompletion first = await client.CompleteChatAsync(messages, options);

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.True(ToolModelAccuracyTests.IsRight(c, [(call.FunctionName, call.FunctionArguments.ToString())], null), $"{call.FunctionName}{call.FunctionArguments}");
        string argument = JsonNode.Parse(call.FunctionArguments.ToString())![WorldTools.Parameter(call.FunctionName)]!.GetValue<string>();
        var result = WorldTools.Run(call.FunctionName, argument, c.Scene ?? []);

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, result.ToJsonString()));
        ChatCompletion answer = await client.CompleteChatAsync(messages, options);

        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        Assert.Empty(answer.ToolCalls);
        Assert.Equal(WorldTools.Answer(call.FunctionName, argument, result), answer.Content[0].Text);
    }

    [Theory]
    [MemberData(nameof(CallCases))]
    public async Task ExtensionsAi_FunctionInvokingClient_RunsTheRealToolAndAnswersFromIt(string id)
    {
        var c = Case(id);
        var invoked = new List<(string Name, string Argument)>();
        JsonObject Run(string name, string argument)
        {
            lock (invoked)
            {
                invoked.Add((name, argument));
            }

            return WorldTools.Run(name, argument, c.Scene ?? []);
        }

        var all = new Dictionary<string, AIFunction>
        {
            ["count_shapes"] = AIFunctionFactory.Create((string color) => Run("count_shapes", color), "count_shapes", "Counts the shapes of one colour in the image."),
            ["zoom"] = AIFunctionFactory.Create((string region) => Run("zoom", region), "zoom", "Looks closely at one quadrant of the image."),
            ["play_tone"] = AIFunctionFactory.Create((string pitch) => Run("play_tone", pitch), "play_tone", "Plays a tone at a pitch."),
        };
        var offered = c.Tools.Select(t => t!["function"]!["name"]!.GetValue<string>()).Select(n => (AITool)all[n]).ToList();
        using IChatClient client = new ChatClient(ToolModel.Id, new ApiKeyCredential("dummy-key"), new OpenAIClientOptions { Endpoint = new Uri(server.Factory.BaseAddress, "v1") })
            .AsIChatClient().AsBuilder().UseFunctionInvocation().Build();

        var response = await client.GetResponseAsync(
            [.. c.Messages.Select(m => ToExtensionsAi(m!))],
            new ChatOptions { Tools = offered, ToolMode = ChatToolMode.Auto, Temperature = 0f, MaxOutputTokens = 96 });

        var (name, argument) = Assert.Single(invoked);
        var expected = c.ExpectedCall!;
        Assert.Equal(expected["name"]!.GetValue<string>(), name);
        Assert.Equal(expected["arguments"]![WorldTools.Parameter(name)]!.GetValue<string>(), argument);
        Assert.Equal(WorldTools.Answer(name, argument, WorldTools.Run(name, argument, c.Scene ?? [])), response.Text);
    }

    private static SdkChatMessage ToSdk(JsonNode m)
    {
        var role = m["role"]!.GetValue<string>();
        var parts = m["content"]!.AsArray().Select(p => p!["type"]!.GetValue<string>() == "text"
            ? ChatMessageContentPart.CreateTextPart(p["text"]!.GetValue<string>())
            : ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(Bytes(p)), "image/png")).ToList();
        return role == "system" ? new SystemChatMessage(parts) : new UserChatMessage(parts);
    }

    private static AiChatMessage ToExtensionsAi(JsonNode m) => new(
        m["role"]!.GetValue<string>() == "system" ? ChatRole.System : ChatRole.User,
        [.. m["content"]!.AsArray().Select(p => p!["type"]!.GetValue<string>() == "text"
            ? (AIContent)new TextContent(p["text"]!.GetValue<string>())
            : new DataContent(Bytes(p), "image/png"))]);

    private static byte[] Bytes(JsonNode imagePart)
    {
        var url = imagePart["image_url"]!["url"]!.GetValue<string>();
        return Convert.FromBase64String(url[(url.IndexOf(',', StringComparison.Ordinal) + 1)..]);
    }
}
