namespace MmServe.Model.Chat;

/// <summary>A piece of a rendered prompt, kept apart so it can be tokenized with the right trust level.</summary>
public abstract record PromptSegment
{
    private PromptSegment()
    {
    }

    /// <summary>Template markup from the bundle author; special-token strings in it are special tokens.</summary>
    public sealed record Markup(string Text) : PromptSegment;

    /// <summary>Text that came from a request (message text, role name); always tokenized as plain text.</summary>
    public sealed record Content(string Text) : PromptSegment;

    /// <summary>A media item; renders as the modality's placeholder token.</summary>
    public sealed record Placeholder(string Modality, int Index, string Token) : PromptSegment;
}
