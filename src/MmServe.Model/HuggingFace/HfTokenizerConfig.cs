using System.Text.Json;
using MmServe.Model.Bundle;

namespace MmServe.Model.HuggingFace;

/// <summary>
/// tokenizer_config.json's special tokens (the chat template's variables) and the chat template, found where
/// transformers looks: chat_template.jinja, then chat_template.json, then tokenizer_config.json "chat_template"
/// (a string, or a list of named templates of which "default" is used).
/// </summary>
public sealed record HfTokenizerConfig(string ChatTemplate, string ChatTemplateSource, IReadOnlyDictionary<string, string> SpecialTokens)
{
    public const string FileName = "tokenizer_config.json";

    /// <summary>The special-token fields handed to the template, as transformers does (bos_token, eos_token...).</summary>
    private static readonly string[] TemplateTokenFields = ["bos_token", "eos_token", "unk_token", "pad_token"];

    internal static HfTokenizerConfig Read(string folder)
    {
        var json = HfJson.Read(folder, FileName, required: true)!;
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in TemplateTokenFields)
        {
            if (json.Token(json.Root, field, field) is { } token)
            {
                tokens[field] = token;
            }
        }

        var (template, source) = FindChatTemplate(folder, json);
        return new HfTokenizerConfig(template, source, tokens);
    }

    private static (string Template, string Source) FindChatTemplate(string folder, HfJson tokenizerConfig)
    {
        var jinjaFile = Path.Combine(folder, "chat_template.jinja");
        if (File.Exists(jinjaFile))
        {
            return (File.ReadAllText(jinjaFile), jinjaFile);
        }

        if (HfJson.Read(folder, "chat_template.json", required: false) is { } templateJson)
        {
            return (ReadTemplateField(templateJson) ?? throw templateJson.Error("chat_template", "is required"), templateJson.DisplayPath);
        }

        return (ReadTemplateField(tokenizerConfig)
                ?? throw tokenizerConfig.Error("chat_template", "is required (this server builds chat prompts with the model's template; none was found in chat_template.jinja, chat_template.json or tokenizer_config.json)"),
            tokenizerConfig.DisplayPath);
    }

    private static string? ReadTemplateField(HfJson json)
    {
        if (HfJson.Property(json.Root, "chat_template") is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var named in value.EnumerateArray())
            {
                if (json.String(named, "name", "chat_template[].name") == "default")
                {
                    return json.String(named, "template", "chat_template[].template") ?? throw json.Error("chat_template[default].template", "is required");
                }
            }

            throw json.Error("chat_template", "lists named templates but none is named \"default\"");
        }

        throw json.Error("chat_template", "must be a string or a list of {name, template}");
    }
}
