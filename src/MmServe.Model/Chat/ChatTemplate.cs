using System.Text;
using MmServe.Model.Bundle;

namespace MmServe.Model.Chat;

/// <summary>
/// Renders a conversation with the manifest's declarative chat_template: each message is message_format with
/// {role} and {content} filled in (content = the parts joined by part_separator, media as placeholder tokens),
/// then generation_prompt. "developer" (OpenAI's newer name for system) renders as "system".
/// </summary>
public sealed class ChatTemplate
{
    private const string RolePlaceholder = "{role}";
    private const string ContentPlaceholder = "{content}";

    private readonly ChatTemplateSpec _spec;
    private readonly IReadOnlyDictionary<string, string> _placeholderTokens;

    // message_format pre-split into literal text and slots. Substituting once, rather than with string.Replace,
    // keeps a literal "{role}" typed inside a message from being substituted too.
    private readonly IReadOnlyList<(FormatSlot Slot, string Literal)> _messageFormat;

    /// <param name="spec">The manifest's chat_template section.</param>
    /// <param name="placeholderTokens">Placeholder token string by input modality name.</param>
    public ChatTemplate(ChatTemplateSpec spec, IReadOnlyDictionary<string, string> placeholderTokens)
    {
        _spec = spec;
        _placeholderTokens = placeholderTokens;
        _messageFormat = ParseFormat(spec.MessageFormat);
    }

    public static ChatTemplate FromManifest(BundleManifest manifest) =>
        new(manifest.ChatTemplate,
            manifest.InputModalities.ToDictionary(m => m.Key, m => m.Value.PlaceholderToken, StringComparer.Ordinal));

    /// <summary>The prompt as one string (for logs, debugging and token counting by other tools).</summary>
    public string Render(IReadOnlyList<ChatTurn> conversation, bool addGenerationPrompt = true)
    {
        var text = new StringBuilder();
        foreach (var segment in RenderSegments(conversation, addGenerationPrompt))
        {
            text.Append(segment switch
            {
                PromptSegment.Markup m => m.Text,
                PromptSegment.Content c => c.Text,
                PromptSegment.Placeholder p => p.Token,
                _ => throw new InvalidOperationException($"unknown segment {segment}"),
            });
        }

        return text.ToString();
    }

    /// <summary>The prompt as segments that say which text is trusted markup; see <see cref="PromptBuilder"/>.</summary>
    /// <exception cref="ArgumentException">A media part names a modality the bundle has no placeholder for.</exception>
    public IReadOnlyList<PromptSegment> RenderSegments(IReadOnlyList<ChatTurn> conversation,
        bool addGenerationPrompt = true)
    {
        var segments = new List<PromptSegment>();
        var hasSystem = conversation.Any(t => NormalizeRole(t.Role) == "system");
        if (_spec.DefaultSystemPrompt is { } systemPrompt && !hasSystem)
        {
            // The default comes from the bundle, but it is message content like any other: no markup in it.
            AppendMessage(segments, "system", [new ChatPart.Text(systemPrompt)]);
        }

        foreach (var turn in conversation)
        {
            AppendMessage(segments, NormalizeRole(turn.Role), turn.Parts);
        }

        if (addGenerationPrompt)
        {
            AddMarkup(segments, _spec.GenerationPrompt);
        }

        return segments;
    }

    private static string NormalizeRole(string role) => role == "developer" ? "system" : role;

    private void AppendMessage(List<PromptSegment> segments, string role, IReadOnlyList<ChatPart> parts)
    {
        foreach (var (slot, literal) in _messageFormat)
        {
            switch (slot)
            {
                case FormatSlot.Role:
                    // The role comes from the request, so it is content, not markup.
                    segments.Add(new PromptSegment.Content(role));
                    break;
                case FormatSlot.Content:
                    AppendContent(segments, parts);
                    break;
                default:
                    AddMarkup(segments, literal);
                    break;
            }
        }
    }

    private void AppendContent(List<PromptSegment> segments, IReadOnlyList<ChatPart> parts)
    {
        for (var i = 0; i < parts.Count; i++)
        {
            if (i > 0)
            {
                AddMarkup(segments, _spec.PartSeparator);
            }

            switch (parts[i])
            {
                case ChatPart.Text text:
                    segments.Add(new PromptSegment.Content(text.Value));
                    break;
                case ChatPart.Media media:
                    var token = _placeholderTokens.TryGetValue(media.Modality, out var t)
                        ? t
                        : throw new ArgumentException($"the model has no input modality '{media.Modality}'",
                            nameof(parts));
                    segments.Add(new PromptSegment.Placeholder(media.Modality, media.Index, token));
                    break;
            }
        }
    }

    private static void AddMarkup(List<PromptSegment> segments, string text)
    {
        if (text.Length > 0)
        {
            segments.Add(new PromptSegment.Markup(text));
        }
    }

    /// <summary>Splits a format into literal text and the "{role}" / "{content}" slots.</summary>
    private static List<(FormatSlot Slot, string Literal)> ParseFormat(string format)
    {
        var pieces = new List<(FormatSlot, string)>();
        var literal = new StringBuilder();
        for (var i = 0; i < format.Length;)
        {
            var rest = format.AsSpan(i);
            var (slot, length) = rest.StartsWith(RolePlaceholder, StringComparison.Ordinal)
                ? (FormatSlot.Role, RolePlaceholder.Length)
                : rest.StartsWith(ContentPlaceholder, StringComparison.Ordinal)
                    ? (FormatSlot.Content, ContentPlaceholder.Length)
                    : (FormatSlot.Literal, 1);
            if (slot == FormatSlot.Literal)
            {
                literal.Append(format[i]);
            }
            else
            {
                FlushLiteral();
                pieces.Add((slot, ""));
            }

            i += length;
        }

        FlushLiteral();
        return pieces;

        void FlushLiteral()
        {
            if (literal.Length > 0)
            {
                pieces.Add((FormatSlot.Literal, literal.ToString()));
                literal.Clear();
            }
        }
    }

    private enum FormatSlot
    {
        Literal,
        Role,
        Content,
    }
}
