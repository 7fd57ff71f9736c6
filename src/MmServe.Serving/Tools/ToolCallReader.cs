using System.Text;
using System.Text.Json;

namespace MmServe.Serving.Tools;

/// <summary>
/// Reads tool calls out of a model's output in its family's format, incrementally: text that cannot be part of a
/// call is passed on as content at once; a possible call is held back until it is complete, then becomes a
/// <see cref="ToolStreamEvent.CallStarted"/> and its arguments. Text that looked like a call but does not parse is
/// given back as content, so nothing the model wrote is lost. The whole-output parse (<see cref="Parse"/>) is
/// the same reader run over the full text, so streamed and non-streamed answers agree.
/// </summary>
/// <param name="format">The model's call format.</param>
/// <param name="streamArguments">Stream Hermes arguments as they are written (forced calls, whose shape the grammar guarantees).</param>
public sealed class ToolCallReader(ToolCallFormat format, bool streamArguments = false)
{
    private const string HermesOpen = "<tool_call>";
    private const string HermesClose = "</tool_call>";
    private const string MistralPrefix = "[TOOL_CALLS]";

    private readonly StringBuilder _pending = new();
    private bool _inCall;
    private HermesArgumentStream? _streamed;
    private bool? _wholeAnswerIsCalls;
    private int _calls;

    public int CallCount => _calls;

    /// <summary>Splits a complete output into content and calls.</summary>
    public static ParsedOutput Parse(ToolCallFormat format, string text)
    {
        var reader = new ToolCallReader(format);
        var events = reader.Push(text).Concat(reader.Finish()).ToList();
        var content = string.Concat(events.OfType<ToolStreamEvent.Content>().Select(c => c.Text));
        var calls = events.OfType<ToolStreamEvent.CallStarted>()
            .Select(start => new ParsedToolCall(start.Id, start.Name, string.Concat(events.OfType<ToolStreamEvent.CallArguments>().Where(a => a.Index == start.Index).Select(a => a.Text))))
            .ToList();
        return new ParsedOutput(calls.Count > 0 && string.IsNullOrWhiteSpace(content) ? null : calls.Count > 0 ? content.Trim() : content, calls);
    }

    public IEnumerable<ToolStreamEvent> Push(string text)
    {
        _pending.Append(text);
        return format == ToolCallFormat.Hermes ? ReadHermes(final: false) : ReadWholeAnswer(final: false);
    }

    /// <summary>The end of the output: whatever is held back is resolved.</summary>
    public IEnumerable<ToolStreamEvent> Finish() => format == ToolCallFormat.Hermes ? ReadHermes(final: true) : ReadWholeAnswer(final: true);

    private List<ToolStreamEvent> ReadHermes(bool final)
    {
        var events = new List<ToolStreamEvent>();
        while (true)
        {
            var text = _pending.ToString();
            if (!_inCall)
            {
                int open = text.IndexOf(HermesOpen, StringComparison.Ordinal);
                if (open < 0)
                {
                    // Keep back a tail that may be the start of "<tool_call>", and trailing whitespace, which is
                    // dropped if a call follows (OpenAI sends no content between calls).
                    int keep = final ? 0 : Math.Max(PartialSuffix(text, HermesOpen), text.Length - text.TrimEnd().Length);
                    EmitUnlessBlankAfterCalls(events, text[..^keep]);
                    _pending.Remove(0, text.Length - keep);
                    return events;
                }

                if (!string.IsNullOrWhiteSpace(text[..open]))
                {
                    Emit(events, text[..open]);
                }

                _pending.Remove(0, open + HermesOpen.Length);
                _inCall = true;
                continue;
            }

            if (streamArguments)
            {
                if (StreamArguments(events, final))
                {
                    continue;
                }

                // Still inside a streamed call, or it ended with the output; otherwise no header yet: read it whole.
                if (_streamed is not null || !_inCall)
                {
                    return events;
                }
            }

            int close = text.IndexOf(HermesClose, StringComparison.Ordinal);
            if (close < 0 && !final)
            {
                return events;
            }

            // An unterminated last call (the model ended right after its JSON) still counts when the JSON is whole.
            var body = close < 0 ? text : text[..close];
            if (!TryAddCalls(events, body, "arguments"))
            {
                Emit(events, HermesOpen + (close < 0 ? text : text[..(close + HermesClose.Length)]));
            }

            _pending.Remove(0, close < 0 ? text.Length : close + HermesClose.Length);
            _inCall = false;
            if (close < 0)
            {
                return events;
            }
        }
    }

    /// <summary>
    /// Inside a call: starts it once its header is in, passes its arguments on as they come, and after their closing
    /// brace waits for &lt;/tool_call&gt;. True when the call has ended (read on after it).
    /// </summary>
    private bool StreamArguments(List<ToolStreamEvent> events, bool final)
    {
        if (_streamed is null)
        {
            if (!HermesArgumentStream.TryReadHeader(_pending.ToString(), out var name, out int header))
            {
                return false;
            }

            _streamed = new HermesArgumentStream(_calls++);
            events.Add(new ToolStreamEvent.CallStarted(_streamed.Index, ParsedToolCall.NewId(), name));
            _pending.Remove(0, header);
        }

        var text = _pending.ToString();
        if (!_streamed.Done)
        {
            int taken = _streamed.Take(text);
            if (taken > 0)
            {
                events.Add(new ToolStreamEvent.CallArguments(_streamed.Index, text[..taken]));
            }

            _pending.Remove(0, taken);
            text = text[taken..];
        }

        int close = text.IndexOf(HermesClose, StringComparison.Ordinal);
        if (close < 0 && !final)
        {
            return false;
        }

        // What is left of the call ("}" and whitespace) is dropped with the closing tag.
        _pending.Remove(0, close < 0 ? text.Length : close + HermesClose.Length);
        _streamed = null;
        _inCall = false;
        return close >= 0;
    }

    /// <summary>Llama 3 JSON and Mistral: an answer that starts like a call is held to its end, then parsed whole.</summary>
    private List<ToolStreamEvent> ReadWholeAnswer(bool final)
    {
        var events = new List<ToolStreamEvent>();
        var text = _pending.ToString();
        if (_wholeAnswerIsCalls is null)
        {
            var start = text.TrimStart();
            if (start.Length == 0 && !final)
            {
                return events;
            }

            _wholeAnswerIsCalls = format == ToolCallFormat.Mistral
                ? start.StartsWith('[') || (MistralPrefix.StartsWith(start, StringComparison.Ordinal) && !final)
                : start.StartsWith('{') || start.StartsWith("<|python_tag|>", StringComparison.Ordinal) || ("<|python_tag|>".StartsWith(start, StringComparison.Ordinal) && !final);
        }

        if (_wholeAnswerIsCalls == false)
        {
            Emit(events, text);
            _pending.Clear();
            return events;
        }

        if (!final)
        {
            return events;
        }

        var body = text.Trim();
        body = format == ToolCallFormat.Mistral ? StripPrefix(body, MistralPrefix) : StripPrefix(body, "<|python_tag|>");
        if (!TryAddCalls(events, body, format == ToolCallFormat.Mistral ? "arguments" : "parameters"))
        {
            Emit(events, text);
        }

        _pending.Clear();
        return events;
    }

    /// <summary>Adds one call per JSON object in <paramref name="body"/> (an object, an array of them, or objects separated by ';'); false when any is not a call.</summary>
    private bool TryAddCalls(List<ToolStreamEvent> events, string body, string argumentsKey)
    {
        var calls = new List<(string Name, string Arguments)>();
        try
        {
            foreach (var value in JsonValues(body))
            {
                using var document = JsonDocument.Parse(value);
                var root = document.RootElement;
                var items = root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray()] : new List<JsonElement> { root };
                foreach (var item in items)
                {
                    if (ReadCall(item, argumentsKey) is not { } call)
                    {
                        return false;
                    }

                    calls.Add(call);
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        if (calls.Count == 0)
        {
            return false;
        }

        foreach (var (name, arguments) in calls)
        {
            events.Add(new ToolStreamEvent.CallStarted(_calls, ParsedToolCall.NewId(), name));
            events.Add(new ToolStreamEvent.CallArguments(_calls, arguments));
            _calls++;
        }

        return true;
    }

    private static (string, string)? ReadCall(JsonElement call, string argumentsKey)
    {
        if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        // Either key is accepted (fine-tunes mix them up), but one is required: {"name": "Bob"} is an answer, not a call.
        if (!call.TryGetProperty(argumentsKey, out var arguments) && !call.TryGetProperty(argumentsKey == "arguments" ? "parameters" : "arguments", out arguments))
        {
            return null;
        }

        return arguments.ValueKind switch
        {
            JsonValueKind.Object => (name.GetString()!, arguments.GetRawText()),
            JsonValueKind.String => (name.GetString()!, arguments.GetString()!),
            _ => null,
        };
    }

    /// <summary>The top-level JSON values of <paramref name="text"/>, separated by whitespace or ';'.</summary>
    private static IEnumerable<string> JsonValues(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]) || text[i] == ';')
            {
                i++;
                continue;
            }

            int end = ValueEnd(text, i);
            if (end < 0)
            {
                throw new JsonException("Incomplete JSON value.");
            }

            yield return text[i..end];
            i = end;
        }
    }

    /// <summary>End (exclusive) of the object or array starting at <paramref name="start"/>; -1 when it does not close.</summary>
    private static int ValueEnd(string text, int start)
    {
        if (text[start] is not ('{' or '['))
        {
            throw new JsonException("A tool call must be a JSON object.");
        }

        int depth = 0;
        bool inString = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }
            else if (c is '{' or '[')
            {
                depth++;
            }
            else if (c is '}' or ']' && --depth == 0)
            {
                return i + 1;
            }
        }

        return -1;
    }

    private static string StripPrefix(string text, string prefix) => text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..].TrimStart() : text;

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of <paramref name="marker"/>.</summary>
    private static int PartialSuffix(string text, string marker)
    {
        for (int length = Math.Min(marker.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(marker.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }

    private void EmitUnlessBlankAfterCalls(List<ToolStreamEvent> events, string text)
    {
        if (_calls == 0 || !string.IsNullOrWhiteSpace(text))
        {
            Emit(events, text);
        }
    }

    private static void Emit(List<ToolStreamEvent> events, string text)
    {
        if (text.Length > 0)
        {
            events.Add(new ToolStreamEvent.Content(text));
        }
    }
}
