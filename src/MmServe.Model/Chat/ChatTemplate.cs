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
    public string Render(IReadOnlyList<ChatTurn> conversation, bool addGenerationPrompt = true, IReadOnlyList<ChatTool>? tools = null)
    {
        var text = new StringBuilder();
        foreach (var segment in RenderSegments(conversation, addGenerationPrompt, tools))
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
    /// <param name="tools">Offered functions; rendered when the manifest has chat_template.tools, else not shown.</param>
    public IReadOnlyList<PromptSegment> RenderSegments(IReadOnlyList<ChatTurn> conversation,
        bool addGenerationPrompt = true, IReadOnlyList<ChatTool>? tools = null)
    {
        var segments = new List<PromptSegment>();
        if (_spec.Tools is { } toolsSpec && tools is { Count: > 0 })
        {
            AppendToolsMessage(segments, toolsSpec, tools);
        }

        var hasSystem = conversation.Any(t => NormalizeRole(t.Role) == "system");
        if (_spec.DefaultSystemPrompt is { } systemPrompt && !hasSystem)
        {
            // The default comes from the bundle, but it is message content like any other: no markup in it.
            AppendMessage(segments, "system", [new ChatPart.Text(systemPrompt)]);
        }

        foreach (var turn in conversation)
        {
            AppendMessage(segments, NormalizeRole(turn.Role), _spec.Tools is not null && turn.Role == "tool" ? AsDumped(turn.Parts) : turn.Parts, turn.ToolCalls);
        }

        if (addGenerationPrompt)
        {
            AddMarkup(segments, _spec.GenerationPrompt);
        }

        return segments;
    }

    private static string NormalizeRole(string role) => role == "developer" ? "system" : role;

    /// <summary>True when this template shows offered functions to the model (chat_template.tools).</summary>
    public bool RendersTools => _spec.Tools is not null;

    private void AppendMessage(List<PromptSegment> segments, string role, IReadOnlyList<ChatPart> parts,
        IReadOnlyList<ChatToolCall>? calls = null) =>
        AppendMessage(segments, role, () =>
        {
            AppendContent(segments, parts);
            if (_spec.Tools is { } toolsSpec && calls is { Count: > 0 })
            {
                AppendCalls(segments, toolsSpec, calls, separate: parts.Any(p => p is not ChatPart.Text { Value: "" }));
            }
        });

    /// <summary>
    /// A tool result that is JSON, in json.dumps form: clients serialize results as they please (Microsoft.Extensions.AI
    /// indents them), and a small model reads best the one form it was trained on; other text stays as sent.
    /// </summary>
    private static IReadOnlyList<ChatPart> AsDumped(IReadOnlyList<ChatPart> parts) =>
        [.. parts.Select(p => p is ChatPart.Text text ? new ChatPart.Text(PythonJson.DumpsOrKeep(text.Value)) : p)];

    /// <summary>The offered functions as one system message: the prefix, then name(param, ...) joined by ", ".</summary>
    private void AppendToolsMessage(List<PromptSegment> segments, ChatTemplateToolsSpec spec, IReadOnlyList<ChatTool> tools) =>
        AppendMessage(segments, "system", () =>
        {
            AddMarkup(segments, spec.SystemPrefix);
            // Names come from the request: content, not markup (no special tokens can be smuggled in through them).
            segments.Add(new PromptSegment.Content(string.Join(", ", tools.Select(t => $"{t.Name}({string.Join(", ", ParameterNames(t))})"))));
        });

    private static IEnumerable<string> ParameterNames(ChatTool tool) =>
        tool.Parameters is { ValueKind: System.Text.Json.JsonValueKind.Object } schema
        && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == System.Text.Json.JsonValueKind.Object
            ? properties.EnumerateObject().Select(p => p.Name)
            : [];

    /// <summary>Each call with call_format, its {call} = {"name": …, "arguments": …} in the form the model was trained on.</summary>
    private void AppendCalls(List<PromptSegment> segments, ChatTemplateToolsSpec spec, IReadOnlyList<ChatToolCall> calls, bool separate)
    {
        int at = spec.CallFormat.IndexOf("{call}", StringComparison.Ordinal);
        foreach (var call in calls)
        {
            if (separate)
            {
                AddMarkup(segments, _spec.PartSeparator);
            }

            separate = true;
            AddMarkup(segments, spec.CallFormat[..at]);
            segments.Add(new PromptSegment.Content(
                $"{{\"name\": {PythonJson.Dumps(call.Name)}, \"arguments\": {PythonJson.DumpsOrKeep(call.Arguments)}}}"));
            AddMarkup(segments, spec.CallFormat[(at + "{call}".Length)..]);
        }
    }

    private void AppendMessage(List<PromptSegment> segments, string role, Action appendContent)
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
                    appendContent();
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
