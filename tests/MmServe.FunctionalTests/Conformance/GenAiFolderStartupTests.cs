using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Conformance;

/// <summary>
/// A broken ONNX Runtime GenAI folder stops the real server process at start: exit code 1 and one line on stderr
/// naming genai_config.json (or the file) and the field, no stack trace.
/// </summary>
public sealed class GenAiFolderStartupTests
{
    public static TheoryData<string, string[]> BrokenFolders() => new()
    {
        { "unsupported-type", ["genai_config.json: model.type 'phi3v' is not supported", "decoder, llama, qwen2, phi3"] },
        { "missing-layers", ["genai_config.json: model.decoder.num_hidden_layers is required"] },
        { "missing-decoder-file", ["genai_config.json: model.decoder.filename 'absent.onnx'", "does not exist"] },
        { "layer-pattern", ["genai_config.json: model.decoder.inputs.past_key_names 'past_key_values.key' must contain %d"] },
        { "eos-not-a-token", ["genai_config.json: model.eos_token_id 5000 is not a token id of tokenizer.json"] },
        { "kv-heads", ["past_key_values.0.key", "has 2 KV heads", "num_key_value_heads is 1"] },
    };

    [Theory]
    [MemberData(nameof(BrokenFolders))]
    public async Task Broken_genai_folder_exits_with_one_line_naming_file_and_field(string breakage, string[] expected)
    {
        var folder = Directory.CreateTempSubdirectory("mmserve-genai-" + breakage);
        try
        {
            ModelFolderCopy.CopyDirectory(GenAiParityTests.FolderPath, folder.FullName);
            ModelFolderCopy.EditJson(Path.Combine(folder.FullName, "genai_config.json"), config => Break(config["model"]!, breakage));
            var (exitCode, stderr) = await ModelFolderCopy.RunServerToExitAsync(folder.FullName);

            ModelFolderCopy.AssertFailedStartNames(exitCode, stderr, expected);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Decoder_variant_is_refused_for_a_genai_folder()
    {
        // A bundle's decoder_variants pick another ONNX file; a GenAI folder has one decoder, its KV form set by its own config.
        var (exitCode, stderr) = await ModelFolderCopy.RunServerToExitAsync(GenAiParityTests.FolderPath, "--Model:DecoderVariant=gqa");

        ModelFolderCopy.AssertFailedStartNames(exitCode, stderr, ["Model:DecoderVariant 'gqa' applies to MmServe bundles only", "is an ONNX Runtime GenAI folder"]);
    }

    private static void Break(JsonNode model, string breakage)
    {
        var decoder = model["decoder"]!.AsObject();
        switch (breakage)
        {
            case "unsupported-type":
                model["type"] = "phi3v";
                break;
            case "missing-layers":
                decoder.Remove("num_hidden_layers");
                break;
            case "missing-decoder-file":
                decoder["filename"] = "absent.onnx";
                break;
            case "layer-pattern":
                decoder["inputs"]!["past_key_names"] = "past_key_values.key";
                break;
            case "eos-not-a-token":
                model["eos_token_id"] = new JsonArray(679, 5000);
                break;
            case "kv-heads":
                decoder["num_key_value_heads"] = 1;
                break;
        }
    }
}
