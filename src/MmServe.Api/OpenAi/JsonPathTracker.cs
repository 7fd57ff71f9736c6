using System.Globalization;
using System.Text;

namespace MmServe.Api.OpenAi;

/// <summary>
/// Follows a Utf8JsonReader through a document so an error can name where it is, in the API's param style:
/// "messages[0].content[1].text", "stop[2]"; null at the root.
/// </summary>
internal sealed class JsonPathTracker
{
    private readonly List<Frame> _frames = [];

    /// <summary>A value starts: in an array it is the next element.</summary>
    public void Value()
    {
        if (_frames.Count > 0 && _frames[^1].IsArray)
        {
            _frames[^1] = _frames[^1] with { Index = _frames[^1].Index + 1 };
        }
    }

    public void EnterObject() => _frames.Add(new Frame(IsArray: false, Index: -1, Property: null));

    public void EnterArray() => _frames.Add(new Frame(IsArray: true, Index: -1, Property: null));

    public void Leave() => _frames.RemoveAt(_frames.Count - 1);

    /// <summary>The property whose value comes next.</summary>
    public void Property(string name) => _frames[^1] = _frames[^1] with { Property = name };

    /// <summary>The path of the current value (or of the object whose property name is being read).</summary>
    public string? Current()
    {
        var path = new StringBuilder();
        foreach (var frame in _frames)
        {
            if (frame.IsArray && frame.Index >= 0)
            {
                path.Append(CultureInfo.InvariantCulture, $"[{frame.Index}]");
            }
            else if (!frame.IsArray && frame.Property is { } name)
            {
                path.Append(path.Length == 0 ? "" : ".").Append(name);
            }
        }

        return path.Length == 0 ? null : path.ToString();
    }

    /// <summary>Forgets the property once its value is done, so an invalid next name reports the object.</summary>
    public void EndOfValue()
    {
        if (_frames.Count > 0 && !_frames[^1].IsArray)
        {
            _frames[^1] = _frames[^1] with { Property = null };
        }
    }

    private readonly record struct Frame(bool IsArray, int Index, string? Property);
}
