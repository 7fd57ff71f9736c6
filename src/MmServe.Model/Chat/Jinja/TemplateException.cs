namespace MmServe.Model.Chat.Jinja;

/// <summary>
/// A chat template could not be parsed (an unsupported or malformed construct) or failed while rendering.
/// <see cref="Line"/> and <see cref="Column"/> (1-based) locate the construct, or for a rendering error the innermost
/// tag being rendered; they are 0 when unknown. <see cref="Exception.Message"/> ends with the location.
/// </summary>
public class TemplateException : Exception
{
    public TemplateException(string reason, int line = 0, int column = 0, Exception? inner = null)
        : base(line > 0 ? $"{reason} (template line {line}, column {column})" : reason, inner)
    {
        Reason = reason;
        Line = line;
        Column = column;
    }

    /// <summary>What went wrong, without the location.</summary>
    public string Reason { get; }

    public int Line { get; }

    public int Column { get; }
}

/// <summary>The template itself called <c>raise_exception(message)</c>, e.g. to reject a conversation it cannot format.</summary>
public sealed class TemplateRaisedException(string raisedMessage) : TemplateException(raisedMessage)
{
    /// <summary>The template's message, verbatim.</summary>
    public string RaisedMessage { get; } = raisedMessage;
}
