using System.ClientModel;
using System.Text;
using MmServe.FunctionalTests.Infrastructure;
using MmServe.Tests.Shared;
using OpenAI;
using OpenAI.Chat;

namespace MmServe.FunctionalTests;

/// <summary>The official OpenAI .NET SDK talks to the server over a real socket, with an image, streaming and not.</summary>
public sealed class OpenAiSdkTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string ImageCase = "image_caption_009";

    [Fact]
    public async Task SdkStreamingChat_WithImage_ReceivesReferenceAnswerAndUsage()
    {
        var golden = GoldenCases.Get(ImageCase);
        var client = NewClient();
        var text = new StringBuilder();
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in client.CompleteChatStreamingAsync([ImageQuestion()], Options(golden)))
        {
            updates.Add(update);
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.NotEmpty(updates);
        Assert.All(updates, u => Assert.StartsWith("chatcmpl-", u.CompletionId));
        Assert.Single(updates.Select(u => u.CompletionId).Distinct());
        Assert.Equal(ChatMessageRole.Assistant, updates[0].Role);
        Assert.Equal(Chat.Model, updates[0].Model);
        Assert.Equal(golden.CompletionText, text.ToString());
        var finish = Assert.Single(updates, u => u.FinishReason is not null).FinishReason;
        Assert.Equal(golden.FinishReason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop, finish);
        var usage = Assert.Single(updates, u => u.Usage is not null).Usage;
        Assert.Equal(golden.PromptTokenIds.Length, usage.InputTokenCount); // includes the image's placeholder tokens
        Assert.Equal(golden.CompletionTokenIds.Length, usage.OutputTokenCount);
        Assert.Equal(usage.InputTokenCount + usage.OutputTokenCount, usage.TotalTokenCount);
    }

    [Fact]
    public async Task SdkChat_WithImage_ReceivesReferenceAnswer()
    {
        var golden = GoldenCases.Get(ImageCase);
        ChatCompletion completion = await NewClient().CompleteChatAsync([ImageQuestion()], Options(golden));
        Assert.Equal(golden.CompletionText, completion.Content.Count == 0 ? "" : completion.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(golden.PromptTokenIds.Length, completion.Usage.InputTokenCount);
        Assert.Equal(golden.CompletionTokenIds.Length, completion.Usage.OutputTokenCount);
        Assert.StartsWith("fp_", completion.SystemFingerprint);
    }

    [Fact]
    public async Task SdkChat_UnknownModel_ThrowsWith404()
    {
        var client = new ChatClient("no-such-model", new ApiKeyCredential("dummy"), new OpenAIClientOptions { Endpoint = Endpoint() });
        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("Hello!")]));
        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message, StringComparison.Ordinal);
    }

    private ChatClient NewClient() =>
        new(Chat.Model, new ApiKeyCredential("dummy-key"), new OpenAIClientOptions { Endpoint = Endpoint() });

    private Uri Endpoint() => new(server.Factory.BaseAddress, "v1");

    /// <summary>The golden case's message, built with the SDK's own image part.</summary>
    private static UserChatMessage ImageQuestion()
    {
        var png = File.ReadAllBytes(Path.Combine(TestPaths.Golden, "media", "image_0025.png"));
        return new UserChatMessage(
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png"),
            ChatMessageContentPart.CreateTextPart("What is in this picture?"));
    }

    private static ChatCompletionOptions Options(GoldenCase golden) =>
        new() { Temperature = 0, MaxOutputTokenCount = golden.MaxTokens };
}
