using System.Text;

namespace MmServe.Model.Tokenization;

/// <summary>
/// The HF normalizers byte-level BPE tokenizers use (none for GPT-2/Llama-3, NFC for Qwen2), as string maps
/// applied in order.
/// </summary>
internal sealed class TextNormalizer
{
    private readonly IReadOnlyList<Func<string, string>> _steps;

    private TextNormalizer(IReadOnlyList<Func<string, string>> steps) => _steps = steps;

    public static TextNormalizer UnicodeForm(NormalizationForm form) => new([s => s.Normalize(form)]);

    public static TextNormalizer Lowercase() => new([s => s.ToLowerInvariant()]);

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
