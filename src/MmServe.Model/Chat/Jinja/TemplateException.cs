namespace MmServe.Model.Chat.Jinja;

/// <summary>
/// A chat template could not be parsed (unsupported or malformed construct; <see cref="Line"/> and
/// <see cref="Column"/> locate it, 1-based) or failed while rendering (then they are 0).
/// </summary>
public class TemplateException : Exception
{
    public TemplateException(string message, int line = 0, int column = 0)
        : base(line > 0 ? $"{message} (template line {line}, column {column})" : message)
    {
        Line = line;
        Column = column;
    }

    public int Line { get; }

    public int Column { get; }
}

/// <summary>The template itself called <c>raise_exception(message)</c>, e.g. to reject a conversation it cannot format.</summary>
public sealed class TemplateRaisedException(string raisedMessage) : TemplateException(raisedMessage)
{
    /// <summary>The template's message, verbatim.</summary>
    public string RaisedMessage { get; } = raisedMessage;
}
