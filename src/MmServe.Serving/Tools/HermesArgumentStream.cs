using System.Text.Json;
using System.Text.RegularExpressions;

namespace MmServe.Serving.Tools;

/// <summary>
/// Streams a Hermes call's arguments while the model writes them, as OpenAI streams function.arguments: once the
/// text after &lt;tool_call&gt; reads {"name": "…", "arguments": {, the call starts, and every character of the
/// arguments object is passed on until its closing brace; what follows up to &lt;/tool_call&gt; is dropped. Only used
/// for forced calls, whose shape the grammar guarantees — a free-form call that turned out malformed could not be
/// taken back once streamed.
/// </summary>
internal sealed partial class HermesArgumentStream(int index)
{
    private int _depth;
    private bool _inString;
    private bool _escape;

    public int Index { get; } = index;

    /// <summary>The arguments object has closed.</summary>
    public bool Done { get; private set; }

    /// <summary>The call's name and how many characters its header takes, once <paramref name="text"/> holds the whole header.</summary>
    public static bool TryReadHeader(string text, out string name, out int headerLength)
    {
        var match = Header().Match(text);
        name = match.Success ? JsonSerializer.Deserialize<string>(match.Groups[1].Value)! : "";
        headerLength = match.Success ? match.Length - 1 : 0; // the arguments' "{" is the first character streamed
        return match.Success;
    }

    /// <summary>How many leading characters of <paramref name="text"/> belong to the arguments (all of them until the object closes).</summary>
    public int Take(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length && !Done; i++)
        {
            char c = text[i];
            if (_inString)
            {
                if (_escape)
                {
                    _escape = false;
                }
                else if (c == '\\')
                {
                    _escape = true;
                }
                else if (c == '"')
                {
                    _inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                _inString = true;
            }
            else if (c is '{' or '[')
            {
                _depth++;
            }
            else if (c is '}' or ']' && --_depth == 0)
            {
                Done = true;
                return i + 1;
            }
        }

        return text.Length;
    }

    [GeneratedRegex("""^\s*\{\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"arguments"\s*:\s*\{""")]
    private static partial Regex Header();
}
