namespace MmServe.Abstractions;

/// <summary>
/// An expected failure of a generation request, as a value. <see cref="Message"/> is written by the engine
/// (never copied from an exception) so it is safe to return to API clients.
/// </summary>
/// <param name="Code">What went wrong, for status mapping.</param>
/// <param name="Message">Client-safe explanation.</param>
/// <param name="Param">The offending request parameter in OpenAI's snake_case (e.g. "top_p"), when one is to blame.</param>
public sealed record EngineError(EngineErrorCode Code, string Message, string? Param = null)
{
    public static EngineError InvalidParameter(string param, string message) =>
        new(EngineErrorCode.InvalidRequest, message, param);
}
