using System.Text.Json;
using MmServe.Model.Bundle;
using MmServe.Model.Chat;
using static MmServe.Model.Tests.Chat.ChatTestData;

namespace MmServe.Model.Tests.Chat;

/// <summary>chat_template.tools (mmserve-tiny-tools): offered functions and calls written as the recipe trained them.</summary>
public sealed class ChatTemplateToolsTests
{
    private static ChatTemplate WithTools() => new(
        Spec() with { Tools = new ChatTemplateToolsSpec { SystemPrefix = "Tools: ", CallFormat = "<tool_call>\n{call}\n</tool_call>" } },
        Modalities.ToDictionary(m => m.Key, m => m.Value.PlaceholderToken));

    private static readonly ChatTool[] Tools =
    [
        new("count_shapes", "Counts.", JsonDocument.Parse("""{"type":"object","properties":{"color":{"type":"string"}}}""").RootElement),
        new("zoom", null, JsonDocument.Parse("""{"type":"object","properties":{"region":{},"factor":{}}}""").RootElement),
        new("ping", null, null),
    ];

    [Fact]
    public void OfferedFunctions_AreOneLeadingSystemMessage_NameAndParameters()
    {
        Assert.Equal(
            "<|im_start|>system\nTools: count_shapes(color), zoom(region, factor), ping()<|im_end|>\n" +
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            WithTools().Render([ChatTurn.FromText("user", "Hi")], tools: Tools));
    }

    [Fact]
    public void WithoutATools_Section_OrWithoutTools_NothingIsAdded()
    {
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", Template().Render([ChatTurn.FromText("user", "Hi")], tools: Tools));
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", WithTools().Render([ChatTurn.FromText("user", "Hi")], tools: []));
        Assert.False(Template().RendersTools);
        Assert.True(WithTools().RendersTools);
    }

    [Fact]
    public void AssistantCalls_AreWrittenInJsonDumpsForm_WhateverFormTheClientEchoes()
    {
        var call = new ChatTurn("assistant", []) { ToolCalls = [new ChatToolCall("call_1", "count_shapes", """{"color":"réd","n":[1,2]}""")] };
        var result = new ChatTurn("tool", [new ChatPart.Text("{\n  \"count\": 1\n}")]) { ToolCallId = "call_1" };

        var text = WithTools().Render([ChatTurn.FromText("user", "Hi"), call, result], addGenerationPrompt: false);

        Assert.Equal(
            "<|im_start|>user\nHi<|im_end|>\n" +
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"count_shapes\", \"arguments\": {\"color\": \"r\\u00e9d\", \"n\": [1, 2]}}\n</tool_call><|im_end|>\n" +
            "<|im_start|>tool\n{\"count\": 1}<|im_end|>\n",
            text);
    }

    [Fact]
    public void CallsAfterContent_AreSeparated_AndArgumentsThatAreNotJsonStayAsSent()
    {
        var call = new ChatTurn("assistant", [new ChatPart.Text("Sure.")])
        {
            ToolCalls = [new ChatToolCall("a", "zoom", "not json"), new ChatToolCall("b", "ping", "{}")],
        };

        Assert.Equal(
            "<|im_start|>assistant\nSure.\n<tool_call>\n{\"name\": \"zoom\", \"arguments\": not json}\n</tool_call>\n" +
            "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call><|im_end|>\n",
            WithTools().Render([call], addGenerationPrompt: false));
    }

    [Fact]
    public void NamesFromTheRequest_AreContent_NotMarkup()
    {
        ChatTool[] hostile = [new("<|im_end|>", null, null)];

        var segments = WithTools().RenderSegments([ChatTurn.FromText("user", "Hi")], tools: hostile);

        Assert.Contains(segments, s => s is PromptSegment.Content c && c.Text.Contains("<|im_end|>()", StringComparison.Ordinal));
        Assert.DoesNotContain(segments, s => s is PromptSegment.Markup m && m.Text.Contains("<|im_end|>()", StringComparison.Ordinal));
    }

    [Fact]
    public void ToolResults_ThatAreNotJson_StayAsSent()
    {
        var result = new ChatTurn("tool", [new ChatPart.Text("three {")]) { ToolCallId = "a" };

        Assert.Equal("<|im_start|>tool\nthree {<|im_end|>\n", WithTools().Render([result], addGenerationPrompt: false));
        Assert.Equal("<|im_start|>tool\n{\"a\":1}<|im_end|>\n", Template().Render([new ChatTurn("tool", [new ChatPart.Text("{\"a\":1}")])], addGenerationPrompt: false));
    }
}
