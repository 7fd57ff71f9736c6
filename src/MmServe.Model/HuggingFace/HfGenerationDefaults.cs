using MmServe.Model.Bundle;

namespace MmServe.Model.HuggingFace;

/// <summary>
/// The sampling defaults of a Hugging Face export's generation_config.json (<see cref="SamplingDefaults"/>):
/// do_sample, temperature, top_p, top_k and max_new_tokens, as set in the file. A value no request could be served
/// with fails the start naming the file and field.
/// </summary>
internal static class HfGenerationDefaults
{
    public const string FileName = "generation_config.json";

    public static SamplingDefaults Read(HfJson? generation)
    {
        if (generation is null)
        {
            return SamplingDefaults.None;
        }

        var root = generation.Root;
        var defaults = SamplingDefaults.From(
            generation.Bool(root, "do_sample", "do_sample"),
            generation.Double(root, "temperature", "temperature"),
            generation.Double(root, "top_p", "top_p"),
            generation.Int(root, "top_k", "top_k"),
            generation.Int(root, "max_new_tokens", "max_new_tokens"),
            FileName);
        return defaults.Problem() is var (field, problem) ? throw generation.Error(field, problem) : defaults;
    }
}
