namespace MmServe.Model.HuggingFace;

/// <summary>
/// Which variant of each ONNX file to load ("Model:Dtype"), named as transformers.js names them: onnx/&lt;stem&gt;&lt;suffix&gt;.onnx.
/// </summary>
public static class HfDtype
{
    public const string Default = "fp32";

    /// <summary>transformers.js' DEFAULT_DTYPE_SUFFIX_MAPPING.</summary>
    public static readonly IReadOnlyDictionary<string, string> Suffixes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["fp32"] = "",
        ["fp16"] = "_fp16",
        ["int8"] = "_int8",
        ["uint8"] = "_uint8",
        ["q8"] = "_quantized",
        ["q4"] = "_q4",
        ["q4f16"] = "_q4f16",
        ["bnb4"] = "_bnb4",
    };

    public static string FileName(string stem, string dtype) => $"{stem}{Suffixes[dtype]}.onnx";
}
