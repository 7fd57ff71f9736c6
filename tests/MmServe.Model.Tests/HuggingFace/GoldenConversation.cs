using System.Text.Json;
using MmServe.Model.Chat;

namespace MmServe.Model.Tests.HuggingFace;

/// <summary>A golden case's messages as chat turns, and the check that a prompt builder renders and tokenizes them as the golden says.</summary>
internal static class GoldenConversation
{
    /// <summary>Rendered text, prompt ids and media run lengths (the golden's per-item "tokens") equal the golden's.</summary>
    public static void AssertPromptEqualsGolden(JinjaPromptBuilder builder, JsonElement goldenCase)
    {
        var conversation = Turns(goldenCase.GetProperty("messages"));
        int[] lengths = [.. goldenCase.GetProperty("media").EnumerateArray().Select(m => m.GetProperty("tokens").GetInt32())];

        Assert.Equal(goldenCase.GetProperty("prompt_text").GetString(), builder.Render(conversation));
        var prompt = builder.Build(conversation, mediaLengths: lengths);
        Assert.Equal(goldenCase.GetProperty("prompt_ids").EnumerateArray().Select(v => v.GetInt32()), prompt.Ids);
        Assert.Equal(lengths, prompt.MediaSpans.Select(s => s.Length));
    }

    /// <summary>String content as one text part, media parts numbered in prompt order.</summary>
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
