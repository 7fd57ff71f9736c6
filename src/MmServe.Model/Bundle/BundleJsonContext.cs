using System.Text.Json;
using System.Text.Json.Serialization;

namespace MmServe.Model.Bundle;

/// <summary>
/// Source-generated (trim/AOT friendly) serializer for the manifest. Nullable annotations and C# "required" are
/// enforced here so a missing or null field fails with its JSON path instead of surfacing later as a null.
/// Comments and trailing commas are tolerated because manifests are edited by hand.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    RespectNullableAnnotations = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true)]
[JsonSerializable(typeof(BundleManifest))]
internal sealed partial class BundleJsonContext : JsonSerializerContext;
