using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// A broken Hugging Face export folder stops the real server process at start: exit code 1 and one line on stderr
/// naming the file and the field, no stack trace.
/// </summary>
public sealed class HfFolderStartupTests
{
    public static TheoryData<string, string[]> BrokenFolders() => new()
    {
        { "missing-tokenizer", ["tokenizer.json: file does not exist"] },
        { "unknown-model-type", ["config.json: model_type 'mamba' is not supported", "llava"] },
        { "kv-heads", ["past_key_values.0.key", "has 2 KV heads", "config.json num_key_value_heads is 1"] },
        { "bad-template", ["chat_template.json: chat_template does not parse", "template line 1"] },
        { "missing-variant", ["decoder_model_merged_q4.onnx: file does not exist", "dtype 'q4'"] },
        { "qwen2vl-no-mrope", ["config.json: rope_scaling.mrope_section is required for qwen2_vl"] },
        { "qwen2vl-bad-video-token", ["config.json: video_token_id 99999 is not a token id of tokenizer.json"] },
    };

    [Theory]
    [MemberData(nameof(BrokenFolders))]
    public async Task Broken_folder_exits_with_one_line_naming_file_and_field(string breakage, string[] expected)
    {
        var folder = Directory.CreateTempSubdirectory("mmserve-hf-" + breakage);
        try
        {
            ModelFolderCopy.CopyDirectory(ConformanceGolden.ModelPath(breakage.StartsWith("qwen2vl-", StringComparison.Ordinal) ? "tiny-qwen2-vl" : "tiny-llava"), folder.FullName);
            var dtype = Break(folder.FullName, breakage);
            var (exitCode, stderr) = await ModelFolderCopy.RunServerToExitAsync(folder.FullName, $"--Model:Dtype={dtype}");

            ModelFolderCopy.AssertFailedStartNames(exitCode, stderr, expected);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <returns>The Dtype to start with.</returns>
    private static string Break(string folder, string breakage)
    {
        switch (breakage)
        {
            case "missing-tokenizer":
                File.Delete(Path.Combine(folder, "tokenizer.json"));
                break;
            case "unknown-model-type":
                ModelFolderCopy.EditJson(Path.Combine(folder, "config.json"), config => config["model_type"] = "mamba");
                break;
            case "kv-heads":
                ModelFolderCopy.EditJson(Path.Combine(folder, "config.json"), config => config["text_config"]!["num_key_value_heads"] = 1);
                break;
            case "bad-template":
                File.Delete(Path.Combine(folder, "chat_template.jinja"));
                File.WriteAllText(Path.Combine(folder, "chat_template.json"), """{"chat_template": "{% for message in %}{{ message }}{% endfor %}"}""");
                break;
            case "missing-variant":
                return "q4";
            case "qwen2vl-no-mrope":
                ModelFolderCopy.EditJson(Path.Combine(folder, "config.json"), config => config.AsObject().Remove("rope_scaling"));
                break;
            case "qwen2vl-bad-video-token":
                ModelFolderCopy.EditJson(Path.Combine(folder, "config.json"), config => config["video_token_id"] = 99999);
                break;
        }

        return "fp32";
    }
}
