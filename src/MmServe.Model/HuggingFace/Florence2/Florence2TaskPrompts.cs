using System.Text.Json;

namespace MmServe.Model.HuggingFace.Florence2;

/// <summary>
/// Florence-2's task tokens (<c>&lt;CAPTION&gt;</c>, <c>&lt;OCR&gt;</c>, …) and the prompts they stand for, from
/// preprocessor_config.json's <c>task_prompts_without_inputs</c> and <c>task_prompts_with_input</c> (where
/// transformers.js's Florence2Processor reads them). <see cref="Construct"/> is its <c>construct_prompts</c>.
/// </summary>
public sealed class Florence2TaskPrompts
{
    public const string FileName = "preprocessor_config.json";

    private readonly Dictionary<string, string> _withoutInput;
    private readonly List<KeyValuePair<string, string>> _withInput;

    public Florence2TaskPrompts(IEnumerable<KeyValuePair<string, string>> withoutInput, IEnumerable<KeyValuePair<string, string>> withInput)
    {
        _withoutInput = new Dictionary<string, string>(withoutInput, StringComparer.Ordinal);
        _withInput = [.. withInput];
    }

    /// <summary>The task tokens that take no further text, in file order.</summary>
    public IReadOnlyCollection<string> TasksWithoutInput => _withoutInput.Keys;

    /// <summary>
    /// The prompt for a user text: a task token alone → its prompt; a text containing a task token that takes input
    /// (the first in file order) → that prompt with <c>{input}</c> = the text less the token; any other text → itself.
    /// </summary>
    public string Construct(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_withoutInput.TryGetValue(text, out var prompt))
        {
            return prompt;
        }

        foreach (var (task, template) in _withInput)
        {
            if (text.Contains(task, StringComparison.Ordinal))
            {
                // transformers.js: prompt.replaceAll('{input}', t).replaceAll(task, '') — the task token is removed
                // after substitution, so it also disappears from the inserted text.
                return template.Replace("{input}", text, StringComparison.Ordinal).Replace(task, string.Empty, StringComparison.Ordinal);
            }
        }

        return text;
    }

    internal static Florence2TaskPrompts Read(string folder)
    {
        var json = HfJson.Read(folder, FileName, required: true)!;
        return new Florence2TaskPrompts(Table(json, "task_prompts_without_inputs"), Table(json, "task_prompts_with_input"));
    }

    private static List<KeyValuePair<string, string>> Table(HfJson json, string name)
    {
        var table = new List<KeyValuePair<string, string>>();
        if (HfJson.Property(json.Root, name) is not { } value)
        {
            return table;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw json.Error(name, "must be an object of task token → prompt");
        }

        foreach (var entry in value.EnumerateObject())
        {
            table.Add(new(entry.Name, entry.Value.ValueKind == JsonValueKind.String
                ? entry.Value.GetString()!
                : throw json.Error($"{name}.{entry.Name}", "must be a string")));
        }

        return table;
    }
}
