using System.Text.Json;
using MmServe.Model.Chat;

namespace MmServe.Model.Tests.HuggingFace;

/// <summary>A golden case's messages as chat turns: string content as one text part, media parts numbered in prompt order.</summary>
internal static class GoldenConversation
{
    public static List<ChatTurn> Turns(JsonElement messages)
    {
        var turns = new List<ChatTurn>();
        int media = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var content = message.GetProperty("content");
            var parts = content.ValueKind == JsonValueKind.String
                ? [new ChatPart.Text(content.GetString()!)]
                : content.EnumerateArray().Select(p => p.GetProperty("type").GetString() switch
                {
                    "text" => (ChatPart)new ChatPart.Text(p.GetProperty("text").GetString()!),
                    var modality => new ChatPart.Media(modality!, media++),
                }).ToList();
            turns.Add(new ChatTurn(message.GetProperty("role").GetString()!, parts));
        }

        return turns;
    }
}
