namespace MmServe.Api.OpenAi.Models;

/// <summary>GET /v1/models: <c>{"object":"list","data":[...]}</c>.</summary>
internal sealed record ModelList(string Object, IReadOnlyList<ModelCard> Data);

/// <summary>One model ("object": "model"), with a "capabilities" extension.</summary>
internal sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, ModelCapabilities Capabilities);

/// <summary>Extension: the modalities the model's bundle declares, "text" first.</summary>
internal sealed record ModelCapabilities(IReadOnlyList<string> InputModalities, IReadOnlyList<string> OutputModalities, int MaxContext);
