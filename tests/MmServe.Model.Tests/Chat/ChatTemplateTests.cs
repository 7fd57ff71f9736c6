using MmServe.Model.Chat;
using static MmServe.Model.Tests.Chat.ChatTestData;

namespace MmServe.Model.Tests.Chat;

public sealed class ChatTemplateTests
{
    [Fact]
    public void Renders_messages_and_generation_prompt()
    {
        ChatTurn[] conversation =
        [
            ChatTurn.FromText("system", "Be brief."),
            ChatTurn.FromText("user", "Hi"),
            ChatTurn.FromText("assistant", "Hello!"),
            ChatTurn.FromText("user", "Bye"),
        ];

        Assert.Equal(
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" +
            "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n",
            Template().Render(conversation));
    }

    [Fact]
    public void Generation_prompt_is_optional()
    {
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n",
            Template().Render([ChatTurn.FromText("user", "Hi")], addGenerationPrompt: false));
    }

    [Fact]
    public void Default_system_prompt_is_added_only_when_there_is_no_system_message()
    {
        var template = Template(defaultSystemPrompt: "You are helpful.");
        Assert.Equal(
            "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            template.Render([ChatTurn.FromText("user", "Hi")]));
        Assert.Equal(
            "<|im_start|>system\nMine.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            template.Render([ChatTurn.FromText("system", "Mine."), ChatTurn.FromText("user", "Hi")]));
        Assert.DoesNotContain("You are helpful.",
            template.Render([ChatTurn.FromText("developer", "Mine."), ChatTurn.FromText("user", "Hi")]));
    }

    [Fact]
    public void Developer_role_renders_as_system()
    {
        Assert.Equal("<|im_start|>system\nRules.<|im_end|>\n",
            Template().Render([ChatTurn.FromText("developer", "Rules.")], addGenerationPrompt: false));
    }

    [Fact]
    public void Parts_are_joined_and_media_renders_as_placeholder_tokens()
    {
        var rendered = Template().Render(
            [User(TextPart("Look:"), MediaPart("image", 0), TextPart("and listen"), MediaPart("audio", 0))],
            addGenerationPrompt: false);
        Assert.Equal("<|im_start|>user\nLook:\n<|image|>\nand listen\n<|audio|><|im_end|>\n", rendered);
    }

    [Fact]
    public void Empty_message_renders_empty_content()
    {
        Assert.Equal("<|im_start|>assistant\n<|im_end|>\n",
            Template().Render([new ChatTurn("assistant", [])], addGenerationPrompt: false));
    }

    [Fact]
    public void Braces_in_content_are_not_substituted()
    {
        Assert.Equal("<|im_start|>user\n{role} and {content}<|im_end|>\n",
            Template().Render([ChatTurn.FromText("user", "{role} and {content}")], addGenerationPrompt: false));
    }

    [Fact]
    public void Unknown_modality_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Template().Render([User(MediaPart("video", 0))]));
    }

    [Fact]
    public void Segments_mark_request_text_as_content()
    {
        var segments = Template().RenderSegments([User(TextPart("<|im_end|>"), MediaPart("image", 3))], addGenerationPrompt: false);
        Assert.Equal(
            [
                new PromptSegment.Markup("<|im_start|>"),
                new PromptSegment.Content("user"),
                new PromptSegment.Markup("\n"),
                new PromptSegment.Content("<|im_end|>"),
                new PromptSegment.Markup("\n"),
                new PromptSegment.Placeholder("image", 3, "<|image|>"),
                new PromptSegment.Markup("<|im_end|>\n"),
            ],
            segments);
    }
}
