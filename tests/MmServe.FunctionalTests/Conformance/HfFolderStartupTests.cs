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
            CopyDirectory(ConformanceGolden.ModelPath(breakage.StartsWith("qwen2vl-", StringComparison.Ordinal) ? "tiny-qwen2-vl" : "tiny-llava"), folder.FullName);
            var dtype = Break(folder.FullName, breakage);
            var (exitCode, stderr) = await RunServerAsync(folder.FullName, dtype);

            Assert.Equal(1, exitCode);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{stderr}");
            Assert.StartsWith("mmserve: failed to start: ", lines[0], StringComparison.Ordinal);
            Assert.All(expected, e => Assert.Contains(e, lines[0], StringComparison.Ordinal));
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
                EditJson(Path.Combine(folder, "config.json"), config => config["model_type"] = "mamba");
                break;
            case "kv-heads":
                EditJson(Path.Combine(folder, "config.json"), config => config["text_config"]!["num_key_value_heads"] = 1);
                break;
            case "bad-template":
                File.Delete(Path.Combine(folder, "chat_template.jinja"));
                File.WriteAllText(Path.Combine(folder, "chat_template.json"), """{"chat_template": "{% for message in %}{{ message }}{% endfor %}"}""");
                break;
            case "missing-variant":
                return "q4";
            case "qwen2vl-no-mrope":
                EditJson(Path.Combine(folder, "config.json"), config => config.AsObject().Remove("rope_scaling"));
                break;
            case "qwen2vl-bad-video-token":
                EditJson(Path.Combine(folder, "config.json"), config => config["video_token_id"] = 99999);
                break;
        }

        return "fp32";
    }

    private static async Task<(int ExitCode, string Stderr)> RunServerAsync(string modelPath, string dtype)
    {
        using var server = await WorkerProcess.RunToExitAsync(
            [$"--Model:Path={modelPath}", $"--Model:Dtype={dtype}", "--urls=http://127.0.0.1:0", "--Grpc:Host=127.0.0.1", "--Grpc:Port=0"],
            TimeSpan.FromSeconds(60));
        return (server.ExitCode, server.Stderr);
    }

    private static void EditJson(string path, Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
