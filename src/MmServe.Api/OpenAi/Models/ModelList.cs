using System.Text.Json.Serialization;

namespace MmServe.Api.OpenAi.Models;

/// <summary>GET /v1/models: <c>{"object":"list","data":[...]}</c>.</summary>
internal sealed record ModelList(string Object, IReadOnlyList<ModelCard> Data);

/// <summary>One model ("object": "model"), with a "capabilities" extension.</summary>
internal sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, ModelCapabilities Capabilities);

/// <summary>
/// Extension: the modalities this server serves for the model (input and output), "text" first, and the model's
/// context size.
/// <see cref="UnavailableInputs"/> names input modalities the bundle declares but this server cannot serve, with
/// the reason (e.g. video without ffmpeg); it is omitted when there are none.
/// </summary>
internal sealed record ModelCapabilities(
    IReadOnlyList<string> InputModalities,
    IReadOnlyList<string> OutputModalities,
    int MaxContext,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? UnavailableInputs)
{
    /// <summary>Voices for audio output (chat "audio.voice", /v1/audio/speech "voice"); omitted without audio output.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Voices { get; init; }

    /// <summary>Sizes /v1/images/generations accepts; omitted without image output.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? ImageSizes { get; init; }

    /// <summary>Where each engine worker runs: the device asked for, the execution provider it got, why it fell back, where its KV cache lives.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<WorkerCard>? Workers { get; init; }

    /// <summary>The ONNX Runtime build flavour ("cpu" or "cuda") and version.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public OnnxRuntimeCard? Onnxruntime { get; init; }
}

/// <summary>One engine worker: <c>{"device":"cuda:0","execution_provider":"CPUExecutionProvider","fallback_reason":"...","kv_cache":"host"}</c>.</summary>
internal sealed record WorkerCard(
    string Device,
    string ExecutionProvider,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FallbackReason,
    string KvCache);

/// <summary><c>{"flavor":"cuda","version":"1.31.0"}</c>.</summary>
internal sealed record OnnxRuntimeCard(string Flavor, string Version);
