using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MmServe.Model.Chat.Jinja;
using MmServe.Model.HuggingFace;
using MmServe.Model.Tokenization;

namespace MmServe.Model.Chat;

/// <summary>
/// Builds prompts for Hugging Face exports with the model's own Jinja chat template, as transformers renders it,
/// then tokenizes the result the way the model's processor does (see <see cref="HfArchitecture"/>).
/// </summary>
/// <remarks>
/// Prompt injection: the template renders once with the real message text and once with every text part wrapped in
/// two noncharacters (around the whole text, or inside its outer whitespace for templates that trim it). When
/// removing the marks gives the same string, the marked spans are exactly the client's text and are tokenized
/// without special-token matching (a typed "&lt;|im_end|&gt;" stays plain text), while the template's own markup keeps
/// its special tokens. A template that transforms the text in a way the marks change (slicing, length checks)
/// falls back to HF's behaviour: the whole prompt is tokenized as one string.
/// Media: the template's image markers — the image token for part-list templates, "&lt;|image_N|&gt;" tags for Phi-3-V —
/// are found in the markup only and expanded into the item's run of embedding positions.
/// </remarks>
public sealed partial class JinjaPromptBuilder : IPromptBuilder
{
    private const char MarkStart = '\uFDD0';
    private const char MarkEnd = '\uFDD1';
    private const string ImageModality = "image";
    private const string VideoModality = "video";
    private const string AudioModality = "audio";

    private readonly HfModelInfo _model;
    private readonly ITextTokenizer _tokenizer;
    private readonly SpecialTokenAffixes _specialTokens;
    private readonly string? _imageToken;
    private readonly int _imageTokenId;
    private readonly int _tokensPerImage;
    private readonly TimeProvider _clock;

    /// <summary>Placeholder token and id of each media modality the template places (image; video for Qwen2-VL).</summary>
    private readonly Dictionary<string, (string Token, int Id)> _placeholders = new(StringComparer.Ordinal);

    /// <param name="model">The export's architecture, template and template variables.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="specialTokens">What the tokenizer's post-processor adds (used when the architecture adds special tokens).</param>
    /// <param name="imageToken">The image placeholder token, or null for a text-only model.</param>
    /// <param name="tokensPerImage">Positions per image; 0 when they vary per image.</param>
    /// <param name="videoToken">The video placeholder token (Qwen2-VL's &lt;|video_pad|&gt;), or null; videos' lengths always vary.</param>
    /// <param name="audioToken">The audio placeholder token (Ultravox's &lt;|audio|&gt;), or null; clips' lengths always vary.</param>
    public JinjaPromptBuilder(
        HfModelInfo model, ITextTokenizer tokenizer, SpecialTokenAffixes specialTokens, string? imageToken, int tokensPerImage, TimeProvider? clock = null,
        string? videoToken = null, string? audioToken = null)
    {
        _model = model;
        _tokenizer = tokenizer;
        _specialTokens = specialTokens;
        _imageToken = imageToken;
        _imageTokenId = imageToken is null ? -1 : tokenizer.TokenToId(imageToken) ?? throw new ArgumentException($"'{imageToken}' is not a token of the tokenizer");
        _tokensPerImage = tokensPerImage;
        _clock = clock ?? TimeProvider.System;
        if (imageToken is not null)
        {
            _placeholders[ImageModality] = (imageToken, _imageTokenId);
        }

        if (videoToken is not null)
        {
            _placeholders[VideoModality] = (videoToken, tokenizer.TokenToId(videoToken) ?? throw new ArgumentException($"'{videoToken}' is not a token of the tokenizer"));
        }

        if (audioToken is not null)
        {
            _placeholders[AudioModality] = (audioToken, tokenizer.TokenToId(audioToken) ?? throw new ArgumentException($"'{audioToken}' is not a token of the tokenizer"));
        }
    }

    public bool NeedsMediaLengths =>
        (_imageToken is not null && _tokensPerImage == 0) || _placeholders.ContainsKey(VideoModality) || _placeholders.ContainsKey(AudioModality);

    /// <summary>The prompt text exactly as transformers' apply_chat_template renders it (no media expansion).</summary>
    public string Render(IReadOnlyList<ChatTurn> conversation, bool addGenerationPrompt = true) =>
        RenderWith(conversation, addGenerationPrompt, Marking.None, null);

    public bool RendersTools => _model.ChatTemplate.Source.Contains("tools", StringComparison.Ordinal);

    public string TemplateSource => _model.ChatTemplate.Source;

    public TokenizedPrompt Build(IReadOnlyList<ChatTurn> conversation, bool addGenerationPrompt = true, IReadOnlyList<int>? mediaLengths = null, IReadOnlyList<ChatTool>? tools = null)
    {
        var toolList = tools is { Count: > 0 } ? ToolsForTemplate(tools) : null;
        var media = conversation.SelectMany(t => t.Parts).OfType<ChatPart.Media>().ToList();
        foreach (var part in media)
        {
            if (!_placeholders.ContainsKey(part.Modality))
            {
                throw new ArgumentException($"the model has no input modality '{part.Modality}'", nameof(conversation));
            }
        }

        if (NeedsMediaLengths && media.Count > 0 && mediaLengths is null)
        {
            throw new ArgumentException("this model's image token counts depend on the images; pass their lengths", nameof(mediaLengths));
        }

        var real = RenderWith(conversation, addGenerationPrompt, Marking.None, toolList);
        var segments = PlaceMedia(MarkClientText(conversation, addGenerationPrompt, real, toolList), media);

        (int, int) Expand(PromptSegment.Placeholder p) =>
            (_placeholders[p.Modality].Id, p.Modality == ImageModality && _tokensPerImage > 0 ? _tokensPerImage : mediaLengths![p.Index]);
        var affixes = _model.Architecture.AddSpecialTokens ? _specialTokens : SpecialTokenAffixes.None;
        return PromptEncoder.Encode(segments, _tokenizer, Expand, affixes.Prefix, affixes.Suffix);
    }

    /// <summary>How client text is marked in a rendering.</summary>
    private enum Marking
    {
        None,

        /// <summary>Marks around the whole text.</summary>
        Exact,

        /// <summary>Marks inside leading and trailing whitespace, for templates that trim the content (Llama 3).</summary>
        InsideWhitespace,
    }

    /// <summary>The rendering split into markup and client text, or as one markup string when marks cannot locate the text.</summary>
    private List<PromptSegment> MarkClientText(IReadOnlyList<ChatTurn> conversation, bool addGenerationPrompt, string real, List<object?>? tools)
    {
        foreach (var marking in new[] { Marking.Exact, Marking.InsideWhitespace })
        {
            var marked = RenderWith(conversation, addGenerationPrompt, marking, tools);
            if (marked.Replace(MarkStart.ToString(), "", StringComparison.Ordinal).Replace(MarkEnd.ToString(), "", StringComparison.Ordinal) == real)
            {
                return SplitMarked(marked);
            }
        }

        return [new PromptSegment.Markup(real)];
    }

    private string RenderWith(IReadOnlyList<ChatTurn> conversation, bool addGenerationPrompt, Marking marked, List<object?>? tools)
    {
        var context = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = Messages(conversation, marked),
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        if (tools is not null)
        {
            // As transformers passes them: [{"type": "function", "function": {name, description, parameters}}].
            context["tools"] = tools;
        }

        foreach (var (name, value) in _model.TemplateVariables)
        {
            context[name] = value;
        }

        try
        {
            return _model.ChatTemplate.Render(context, _clock);
        }
        catch (TemplateRaisedException e)
        {
            throw new ArgumentException($"the model's chat template rejected the conversation: {e.RaisedMessage}", nameof(conversation), e);
        }
        catch (TemplateException e)
        {
            throw new ArgumentException($"the model's chat template could not render the conversation: {e.Message}", nameof(conversation), e);
        }
    }

    /// <summary>The conversation in the shape this architecture's templates read (see <see cref="HfContentStyle"/>).</summary>
    private List<object?> Messages(IReadOnlyList<ChatTurn> conversation, Marking marked)
    {
        var messages = new List<object?>(conversation.Count);
        int imageNumber = 0;
        foreach (var turn in conversation)
        {
            var texts = turn.Parts.OfType<ChatPart.Text>().Select(t => Text(t.Value, marked)).ToList();
            object content;
            switch (_model.Architecture.ContentStyle)
            {
                case HfContentStyle.PartList or HfContentStyle.OrderedParts:
                    content = turn.Parts.Select(part => (object?)(part switch
                    {
                        ChatPart.Text text => new Dictionary<string, object?> { ["type"] = "text", ["text"] = Text(text.Value, marked) },
                        ChatPart.Media media when _model.Architecture.ContentStyle == HfContentStyle.OrderedParts =>
                            new Dictionary<string, object?> { ["type"] = media.Modality },
                        _ => new Dictionary<string, object?> { ["type"] = "image" },
                    })).ToList();
                    break;
                case HfContentStyle.NumberedImageTags:
                    var tags = new StringBuilder();
                    foreach (var _ in turn.Parts.OfType<ChatPart.Media>())
                    {
                        tags.Append(CultureInfo.InvariantCulture, $"<|image_{++imageNumber}|>\n");
                    }

                    content = tags + string.Join("\n", texts);
                    break;
                case HfContentStyle.AudioPlaceholders:
                    var audio = _placeholders.GetValueOrDefault(AudioModality).Token;
                    content = string.Join("\n", turn.Parts.Select(part => part switch
                    {
                        ChatPart.Text text => Text(text.Value, marked),
                        _ => audio,
                    }));
                    break;
                default:
                    content = string.Join("\n", texts);
                    break;
            }

            var message = new Dictionary<string, object?>
            {
                // OpenAI's "developer" is the newer name of "system", which is what chat templates know.
                ["role"] = turn.Role == "developer" ? "system" : turn.Role,
                ["content"] = content,
            };
            AddToolFields(turn, message);
            messages.Add(message);
        }

        return messages;
    }

    /// <summary>
    /// tool_calls of an assistant turn, with the arguments parsed (as vLLM and transformers hand them to templates,
    /// which write them with tojson), and tool_call_id of a tool turn.
    /// </summary>
    private static void AddToolFields(ChatTurn turn, Dictionary<string, object?> message)
    {
        if (turn.ToolCalls.Count > 0)
        {
            message["tool_calls"] = turn.ToolCalls.Select(call => (object?)new Dictionary<string, object?>
            {
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new Dictionary<string, object?> { ["name"] = call.Name, ["arguments"] = ParseArguments(call.Arguments) },
            }).ToList();
        }

        if (turn.ToolCallId is { } id)
        {
            message["tool_call_id"] = id;
        }
    }

    private static object? ParseArguments(string arguments)
    {
        try
        {
            return System.Text.Json.JsonDocument.Parse(arguments).RootElement.Clone();
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: the template gets the text as it came.
            return arguments;
        }
    }

    private static List<object?> ToolsForTemplate(IReadOnlyList<ChatTool> tools) => [.. tools.Select(tool =>
    {
        var function = new Dictionary<string, object?> { ["name"] = tool.Name };
        if (tool.Description is not null)
        {
            function["description"] = tool.Description;
        }

        function["parameters"] = tool.Parameters is { } parameters ? parameters : new Dictionary<string, object?> { ["type"] = "object", ["properties"] = new Dictionary<string, object?>() };
        return (object?)new Dictionary<string, object?> { ["type"] = "function", ["function"] = function };
    })];

    /// <summary>Client text, marked when asked; the marks themselves can never come from a client.</summary>
    private static string Text(string value, Marking marking)
    {
        if (value.Contains(MarkStart) || value.Contains(MarkEnd))
        {
            value = value.Replace(MarkStart, '\uFFFD').Replace(MarkEnd, '\uFFFD');
        }

        switch (marking)
        {
            case Marking.Exact:
                return $"{MarkStart}{value}{MarkEnd}";
            case Marking.InsideWhitespace:
                var core = value.Trim();
                int lead = value.Length - value.TrimStart().Length;
                return core.Length == 0 ? value : $"{value[..lead]}{MarkStart}{core}{MarkEnd}{value[(lead + core.Length)..]}";
            default:
                return value;
        }
    }

    private static List<PromptSegment> SplitMarked(string marked)
    {
        var segments = new List<PromptSegment>();
        int i = 0;
        while (i < marked.Length)
        {
            int start = marked.IndexOf(MarkStart, i);
            if (start < 0)
            {
                segments.Add(new PromptSegment.Markup(marked[i..]));
                break;
            }

            if (start > i)
            {
                segments.Add(new PromptSegment.Markup(marked[i..start]));
            }

            int end = marked.IndexOf(MarkEnd, start + 1);
            segments.Add(new PromptSegment.Content(marked[(start + 1)..end]));
            i = end + 1;
        }

        return segments;
    }

    /// <summary>
    /// Replaces the template's media markers in markup with placeholders: the k-th marker of a modality is the k-th
    /// media part of that modality in conversation order (Phi-3-V's tags carry their number).
    /// </summary>
    private List<PromptSegment> PlaceMedia(List<PromptSegment> segments, List<ChatPart.Media> allMedia)
    {
        if (_placeholders.Count == 0)
        {
            return segments;
        }

        var result = new List<PromptSegment>();
        int placed = 0;
        var byModality = _placeholders.ToDictionary(p => p.Value.Token, p => (Modality: p.Key, Items: allMedia.Where(m => m.Modality == p.Key).ToList(), Placed: new int[1]), StringComparer.Ordinal);
        var pattern = _model.Architecture.ContentStyle == HfContentStyle.NumberedImageTags
            ? NumberedImageTag()
            : new Regex(string.Join('|', _placeholders.Values.Select(p => Regex.Escape(p.Token))), RegexOptions.CultureInvariant);
        foreach (var segment in segments)
        {
            if (segment is not PromptSegment.Markup markup)
            {
                result.Add(segment);
                continue;
            }

            int at = 0;
            foreach (Match match in pattern.Matches(markup.Text))
            {
                if (match.Index > at)
                {
                    result.Add(new PromptSegment.Markup(markup.Text[at..match.Index]));
                }

                var (modality, media, placedOfModality) = match.Groups["n"].Success ? byModality[_imageToken!] : byModality[match.Value];
                int ordinal = match.Groups["n"].Success ? int.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture) - 1 : placedOfModality[0]++;
                if (ordinal < 0 || ordinal >= media.Count)
                {
                    throw new ArgumentException($"the chat template placed {modality} {ordinal + 1} but the conversation has {media.Count} {modality}(s)");
                }

                result.Add(new PromptSegment.Placeholder(modality, media[ordinal].Index, _placeholders[modality].Token));
                placed++;
                at = match.Index + match.Length;
            }

            if (at < markup.Text.Length)
            {
                result.Add(at == 0 ? markup : new PromptSegment.Markup(markup.Text[at..]));
            }
        }

        if (placed != allMedia.Count)
        {
            throw new ArgumentException($"the chat template placed {placed} media item(s) but the conversation has {allMedia.Count}");
        }

        return result;
    }

    [GeneratedRegex(@"<\|image_(?<n>\d+)\|>", RegexOptions.CultureInvariant)]
    private static partial Regex NumberedImageTag();
}
