using System.Security.Cryptography;

namespace MmServe.Api.OpenAi.ChatCompletions;

/// <summary>What every chunk (or the one response) of a completion repeats: id, created, model, fingerprint.</summary>
internal sealed record CompletionIdentity(string Id, long Created, string Model, string SystemFingerprint)
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>"chatcmpl-" plus 29 random letters and digits, like OpenAI's ids.</summary>
    public static string NewId() => "chatcmpl-" + new string(RandomNumberGenerator.GetItems<char>(Alphabet, 29));
}
