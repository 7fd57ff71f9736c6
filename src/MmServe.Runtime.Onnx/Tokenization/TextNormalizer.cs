using System.Text;

namespace MmServe.Runtime.Onnx.Tokenization;

/// <summary>
/// The HF normalizers byte-level BPE tokenizers use (none for GPT-2/Llama-3, NFC for Qwen2), as a string map.
/// </summary>
internal sealed class TextNormalizer(IReadOnlyList<Func<string, string>> steps)
{
    public static TextNormalizer UnicodeForm(NormalizationForm form) => new([s => s.Normalize(form)]);

    public static TextNormalizer Lowercase() => new([s => s.ToLowerInvariant()]);

    public static TextNormalizer Sequence(IEnumerable<TextNormalizer> parts) =>
        new(parts.SelectMany(p => p._steps).ToArray());

    private readonly IReadOnlyList<Func<string, string>> _steps = steps;

    public string Normalize(string text)
    {
        foreach (var step in _steps)
        {
            text = step(text);
        }

        return text;
    }
}
