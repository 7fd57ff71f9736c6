using System.ClientModel;
using System.Text;
using MmServe.FunctionalTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace MmServe.FunctionalTests;

/// <summary>The official OpenAI .NET SDK talks to the server over a real socket, with an image, streaming and not.</summary>
public sealed class OpenAiSdkTests(ServerFixture server) : IClassFixture<ServerFixture>
{

    [Fact]
    public async Task SdkStreamingChat_WithImage_ReceivesReferenceAnswerAndUsage()
    {
        var golden = GoldenCases.ImageCaption;
        var client = NewClient();
        var text = new StringBuilder();
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in client.CompleteChatStreamingAsync(SdkMessages(golden), Options(golden)))
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
        var golden = GoldenCases.ImageCaption;
        ChatCompletion completion = await NewClient().CompleteChatAsync(SdkMessages(golden), Options(golden));
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

    /// <summary>The golden case's messages, rebuilt with the SDK's own message and image-part types.</summary>
    private static List<ChatMessage> SdkMessages(GoldenCase golden)
    {
        var messages = new List<ChatMessage>();
        foreach (var message in golden.Messages)
        {
            var parts = message!["content"]!.AsArray().Select(part => (string)part!["type"]! == "text"
                ? ChatMessageContentPart.CreateTextPart((string)part["text"]!)
                : ChatMessageContentPart.CreateImagePart(DataUrlBytes((string)part["image_url"]!["url"]!), "image/png")).ToList();
            messages.Add((string)message["role"]! == "system" ? new SystemChatMessage(parts) : new UserChatMessage(parts));
        }

        return messages;
    }

    private static BinaryData DataUrlBytes(string dataUrl) =>
        BinaryData.FromBytes(Convert.FromBase64String(dataUrl[(dataUrl.IndexOf(',', StringComparison.Ordinal) + 1)..]));

    private static ChatCompletionOptions Options(GoldenCase golden) =>
        new() { Temperature = 0, MaxOutputTokenCount = golden.MaxTokens };
}
