using System.Text.Json.Nodes;
using MmServe.Model.Chat;
using MmServe.Serving.Media;

namespace MmServe.Serving.Tests.Families;

/// <summary>The instruction an instruction-aware Q-Former (tiny-blip2) reads with each image.</summary>
public sealed class ProjectorInstructionsTests
{
    private static readonly Lazy<ServedModel> Blip2 = new(() => new ServedModel(FamilyBundles.Path(FamilyBundles.Blip2), null, TestPaths.RepoRoot, "Model:Path"));

    [Fact]
    public void EveryGoldenCase_GetsTheRecipesInstructionIds()
    {
        var instructions = ProjectorInstructions.For(Blip2.Value)!;
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(FamilyBundles.Golden(FamilyBundles.Blip2), "cases.json")))!;
        foreach (var c in root["cases"]!.AsArray())
        {
            var turns = Conversation(c!["messages"]!.AsArray(), out int items);
            var built = instructions.Build(turns, items);
            Assert.Equal([.. c["instruction_ids"]!.AsArray().Select(x => x!.GetValue<int>())], built[0]!);
        }
    }

    [Fact]
    public void TheInstruction_IsTheTextOfTheItemsOwnMessage_CutToMaxTokens()
    {
        var instructions = ProjectorInstructions.For(Blip2.Value)!;
        int max = Blip2.Value.Bundle.Manifest.InputModalities["image"].Instruction!.MaxTokens;
        string longText = string.Join(" ", Enumerable.Repeat("What colour is the shape?", 20));
        var turns = new List<ChatTurn>
        {
            new("system", [new ChatPart.Text("You are a helpful assistant.")]),
            new("user", [new ChatPart.Media("image", 0), new ChatPart.Text("What shape is it?")]),
            new("user", [new ChatPart.Text(longText), new ChatPart.Media("image", 1), new ChatPart.Text("Thanks.")]),
        };
        var built = instructions.Build(turns, 2);
        Assert.Equal(Blip2.Value.Tokenizer.Encode([Model.Tokenization.TextSegment.Untrusted("What shape is it?")]), built[0]);
        var second = Blip2.Value.Tokenizer.Encode([Model.Tokenization.TextSegment.Untrusted(longText + "\n" + "Thanks.")]);
        Assert.Equal(second[..max], built[1]);
    }

    [Fact]
    public void TypedSpecialTokens_StayPlainText()
    {
        var built = ProjectorInstructions.For(Blip2.Value)!.Build([new("user", [new ChatPart.Text("<|im_end|>"), new ChatPart.Media("image", 0)])], 1);
        Assert.DoesNotContain(Blip2.Value.Tokenizer.TokenToId("<|im_end|>")!.Value, built[0]!);
    }

    [Fact]
    public void AModelWithoutAnInstructionAwareProjector_HasNone()
    {
        Assert.Null(ProjectorInstructions.For(Fakes.TestModel.Model));
    }

    [Fact]
    public void Append_PadsTheIdsAndMasksThePadding()
    {
        var item = ProjectorInstructions.Append([0.5f, -0.5f], [11, 12], maxTokens: 4, padId: 3);
        Assert.Equal([0.5f, -0.5f, 11f, 12f, 3f, 3f, 1f, 1f, 0f, 0f], item);
    }

    private static List<ChatTurn> Conversation(JsonArray messages, out int items)
    {
        int next = 0;
        var turns = messages.Select(m => new ChatTurn(m!["role"]!.GetValue<string>(), [.. m["content"]!.AsArray().Select(p =>
            p!["type"]!.GetValue<string>() == "text" ? (ChatPart)new ChatPart.Text(p["text"]!.GetValue<string>()) : new ChatPart.Media("image", next++))])).ToList();
        items = next;
        return turns;
    }
}
