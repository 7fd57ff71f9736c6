using MmServe.Grpc.V1;

namespace MmServe.GrpcTests.Infrastructure;

/// <summary>Small mmserve.v1 requests for tests.</summary>
public static class Requests
{
    public static ChatRequest Text(string text, int maxTokens = 8) => new()
    {
        Model = Chat.Model,
        Messages = { new Message { Role = Role.User, Content = { new ContentPart { Text = text } } } },
        Sampling = new SamplingParams { Temperature = 0, MaxTokens = maxTokens },
    };

    /// <summary>A user message with the given parts (media first, as clients usually send them) and a question.</summary>
    public static ChatRequest WithParts(string text, params ContentPart[] parts)
    {
        var request = Text(text, 4);
        var content = request.Messages[0].Content;
        content.Clear();
        content.AddRange(parts);
        content.Add(new ContentPart { Text = text });
        return request;
    }
}
