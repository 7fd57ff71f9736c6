using System.Text.Json;
using MmServe.Model.HuggingFace;

namespace MmServe.Model.GenAi;

/// <summary>
/// genai_config.json model.decoder.session_options. The server honours <see cref="IntraOpNumThreads"/> (as a worker's
/// IntraOpThreads when its Workers entry sets none); the rest is read so the folder loads, and ignored: the server runs
/// its sessions sequentially (no inter-op pool), logs at its own level, and picks execution providers from its Workers
/// settings, not from the folder (docs/models.md).
/// </summary>
/// <param name="ProviderNames">The providers provider_options lists ("cuda", "dml", ...), reported when ignored.</param>
public sealed record GenAiSessionOptions(int? IntraOpNumThreads, int? InterOpNumThreads, IReadOnlyList<string> ProviderNames)
{
    internal static GenAiSessionOptions Read(HfJson json, JsonElement decoder)
    {
        if (HfJson.Property(decoder, "session_options") is not { } options)
        {
            return new GenAiSessionOptions(null, null, []);
        }

        if (options.ValueKind != JsonValueKind.Object)
        {
            throw json.Error("model.decoder.session_options", "must be an object");
        }

        var intra = json.Int(options, "intra_op_num_threads", "model.decoder.session_options.intra_op_num_threads");
        var inter = json.Int(options, "inter_op_num_threads", "model.decoder.session_options.inter_op_num_threads");
        if (intra is < 0)
        {
            throw json.Error("model.decoder.session_options.intra_op_num_threads", "must be >= 0");
        }

        var providers = new List<string>();
        if (HfJson.Property(options, "provider_options") is { } list)
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw json.Error("model.decoder.session_options.provider_options", "must be a list of {provider: {options}}");
            }

            foreach (var entry in list.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    throw json.Error("model.decoder.session_options.provider_options", "must be a list of {provider: {options}}");
                }

                providers.AddRange(entry.EnumerateObject().Select(p => p.Name));
            }
        }

        return new GenAiSessionOptions(intra, inter, providers);
    }
}
