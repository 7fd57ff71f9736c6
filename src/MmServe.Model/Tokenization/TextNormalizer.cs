using System.Text;
using System.Text.RegularExpressions;

namespace MmServe.Model.Tokenization;

/// <summary>
/// The HF normalizers BPE tokenizers use (none for GPT-2/Llama-3, NFC for Qwen2, Prepend("▁") + Replace(" ", "▁")
/// for Llama-2-style SentencePiece BPE), as string maps applied in order.
/// </summary>
internal sealed class TextNormalizer
{
    private readonly IReadOnlyList<Func<string, string>> _steps;

    private TextNormalizer(IReadOnlyList<Func<string, string>> steps) => _steps = steps;

    public static TextNormalizer UnicodeForm(NormalizationForm form) => new([s => s.Normalize(form)]);

    public static TextNormalizer Lowercase() => new([s => s.ToLowerInvariant()]);

    /// <summary>HF "Prepend": only non-empty text gets the prefix (an empty segment stays empty).</summary>
    public static TextNormalizer Prepend(string prefix) => new([s => s.Length == 0 ? s : prefix + s]);

    public static TextNormalizer Replace(string literal, string content) =>
        new([s => s.Replace(literal, content, StringComparison.Ordinal)]);

    public static TextNormalizer Replace(Regex pattern, string content) =>
        new([s => pattern.Replace(s, content.Replace("$", "$$", StringComparison.Ordinal))]);

    public static TextNormalizer Sequence(IEnumerable<TextNormalizer> parts) =>
        new(parts.SelectMany(p => p._steps).ToArray());

    public string Normalize(string text)
    {
        foreach (var step in _steps)
        {
            text = step(text);
        }

        return text;
    }
}
