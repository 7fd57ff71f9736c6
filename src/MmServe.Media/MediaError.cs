namespace MmServe.Media;

/// <summary>
/// An expected failure while handling client media. <see cref="Message"/> is written by this library
/// (never copied from an exception) so it is safe to return to API clients.
/// </summary>
/// <param name="Code">Machine-readable code, one of <see cref="MediaErrorCodes"/>.</param>
/// <param name="Message">Client-safe explanation that names the violated limit.</param>
public sealed record MediaError(string Code, string Message);
