using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntimeGenAI;

// Greedy token ids from ONNX Runtime GenAI for a genai_config.json folder: the independent reference MmServe's
// ORT GenAI folder support is checked against (tests/MmServe.FunctionalTests/Conformance/GenAiParityTests.cs).
//   dotnet tools/genai-oracle/bin/.../MmServe.GenAiOracle.dll --model <folder> --cases <cases.json> --out <out.json>
// Each case runs alone (batch 1): ORT GenAI renders the chat template from the folder's tokenizer_config.json,
// tokenizes the text with its own tokenizer, and its Generator decodes greedily until an EOS of genai_config.json or
// max_new_tokens. Cases: {"cases": [{"id", "messages": [{"role", "content"}], "max_new_tokens"}]}; a case with
// "prompt_ids" skips the template and the tokenizer and feeds those ids (prompt_text is then null).
// Output: {"oracle", "cases": [{"id", "prompt_text", "prompt_ids", "output_ids"}]}; output_ids keep the EOS that
// stopped generation (read per step with GetNextTokens: GetSequence leaves it out).
var options = ParseArgs(args);
using var handle = new OgaHandle();
using var model = new Model(options["--model"]);
using var tokenizer = new Tokenizer(model);

var cases = JsonNode.Parse(File.ReadAllText(options["--cases"]))!["cases"]!.AsArray();
var results = new JsonArray();
foreach (var item in cases)
{
    var id = item!["id"]!.GetValue<string>();
    var messages = item["messages"]!.ToJsonString();
    int maxNewTokens = item["max_new_tokens"]!.GetValue<int>();

    // Given prompt ids (another runtime's tokens for the same prompt) go to the model as they are; otherwise ORT GenAI
    // renders the chat template of the folder's tokenizer_config.json (null template) and tokenizes it itself.
    string? promptText = null;
    int[] promptIds;
    using var encoded = item["prompt_ids"] is JsonArray given ? null : tokenizer.Encode(promptText = tokenizer.ApplyChatTemplate(null, messages, null, true));
    promptIds = encoded is null ? [.. item["prompt_ids"]!.AsArray().Select(i => i!.GetValue<int>())] : encoded[0].ToArray();

    using var generatorParams = new GeneratorParams(model);
    generatorParams.SetSearchOption("do_sample", false);
    generatorParams.SetSearchOption("max_length", promptIds.Length + maxNewTokens);
    using var generator = new Generator(model, generatorParams);
    if (encoded is null)
    {
        generator.AppendTokens(promptIds);
    }
    else
    {
        generator.AppendTokenSequences(encoded);
    }

    var stepTokens = new List<int>();
    while (!generator.IsDone())
    {
        generator.GenerateNextToken();
        stepTokens.Add(generator.GetNextTokens()[0]);
    }

    // The sequence leaves out the EOS that ended generation; the per-step tokens keep it (as MmServe's token_ids do).
    var sequenceTail = generator.GetSequence(0)[promptIds.Length..].ToArray();
    var outputIds = stepTokens.ToArray();
    if (!outputIds.AsSpan(0, sequenceTail.Length).SequenceEqual(sequenceTail) || outputIds.Length - sequenceTail.Length > 1)
    {
        Console.Error.WriteLine($"{id}: per-step tokens [{string.Join(",", outputIds)}] disagree with the sequence [{string.Join(",", sequenceTail)}]");
        return 1;
    }
    results.Add(new JsonObject
    {
        ["id"] = id,
        ["prompt_text"] = promptText,
        ["prompt_ids"] = new JsonArray([.. promptIds.Select(i => (JsonNode)i)]),
        ["output_ids"] = new JsonArray([.. outputIds.Select(i => (JsonNode)i)]),
    });
}

var output = new JsonObject { ["oracle"] = "Microsoft.ML.OnnxRuntimeGenAI 0.18.0 (Generator, greedy, batch 1)", ["cases"] = results };
File.WriteAllText(options["--out"], output.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"{results.Count} cases -> {options["--out"]}");
return 0;

static Dictionary<string, string> ParseArgs(string[] args)
{
    var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        parsed[args[i]] = args[i + 1];
    }

    foreach (var required in new[] { "--model", "--cases", "--out" })
    {
        if (!parsed.ContainsKey(required))
        {
            Console.Error.WriteLine("usage: MmServe.GenAiOracle --model <genai folder> --cases <cases.json> --out <out.json>");
            Environment.Exit(2);
        }
    }

    return parsed;
}
