using System.Globalization;
using System.Text.Json;
using MmServe.Model.Bundle;
using MmServe.Model.Chat.Jinja;
using MmServe.Model.Tokenization;

namespace MmServe.Model.HuggingFace;

/// <summary>
/// The tokenizer files every folder format built on Hugging Face tokenizers shares (HF ONNX exports, ORT GenAI
/// folders): tokenizer.json, and the chat template and special tokens of tokenizer_config.json (or chat_template.*).
/// Problems are <see cref="BundleValidationException"/>s naming the file.
/// </summary>
internal static class HfTokenizerFiles
{
    public const string TokenizerFileName = "tokenizer.json";

    /// <returns>The tokenizer and the path it was read from (under <paramref name="folder"/> as given).</returns>
    public static (ByteLevelBpeTokenizer Tokenizer, string Path) LoadTokenizer(string folder)
    {
        var path = RequireFile(folder, TokenizerFileName);
        try
        {
            return (ByteLevelBpeTokenizer.Load(path), path);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or JsonException or IOException)
        {
            throw new BundleValidationException(e.Message, e);
        }
    }

    /// <summary>tokenizer_config.json (required) and the chat template found where transformers looks, parsed.</summary>
    public static (HfTokenizerConfig Config, JinjaTemplate Template) LoadChatTemplate(string folder)
    {
        var config = HfTokenizerConfig.Read(folder);
        try
        {
            return (config, JinjaTemplate.Parse(config.ChatTemplate));
        }
        catch (TemplateException e)
        {
            throw new BundleValidationException($"{config.ChatTemplateSource}: chat_template does not parse: {e.Message}", e);
        }
    }

    /// <summary>The token string of <paramref name="id"/>, or an error naming <paramref name="field"/> of <paramref name="file"/>.</summary>
    public static string TokenOf(ByteLevelBpeTokenizer tokenizer, int id, HfJson file, string field) =>
        id >= 0 && id < tokenizer.VocabSize && tokenizer.IdToToken(id) is { Length: > 0 } token
            ? token
            : throw file.Error(field, $"{id.ToString(CultureInfo.InvariantCulture)} is not a token id of tokenizer.json");

    public static string RequireFile(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        return File.Exists(path) ? path : throw new BundleValidationException($"{path}: file does not exist");
    }
}
