namespace MmServe.Model.Chat;

/// <summary>Conversation → prompt token ids with the positions media embeddings replace.</summary>
public interface IPromptBuilder
{
    /// <summary>
    /// True when a media item's token count depends on the item (Phi-3-V: on the image size), so the media must be
    /// embedded before the prompt is built and their lengths passed to <see cref="Build"/>.
    /// </summary>
    bool NeedsMediaLengths { get; }

    /// <param name="mediaLengths">Embedding rows of each media item by its index; required when <see cref="NeedsMediaLengths"/>.</param>
    /// <param name="tools">Functions offered to the model, given to templates that render "tools"; null or empty: none.</param>
    /// <exception cref="ArgumentException">The conversation cannot be rendered for this model (a message the template rejects, a media part it has no place for).</exception>
    TokenizedPrompt Build(IReadOnlyList<ChatTurn> conversation, bool addGenerationPrompt = true, IReadOnlyList<int>? mediaLengths = null, IReadOnlyList<ChatTool>? tools = null);

    /// <summary>Whether the model's chat template renders "tools" (otherwise the model is never told about them).</summary>
    bool RendersTools { get; }

    /// <summary>The chat template's source, to recognise the model family's tool-call format; empty when unknown.</summary>
    string TemplateSource { get; }
}
