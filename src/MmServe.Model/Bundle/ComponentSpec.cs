using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MmServe.Model.Bundle;

/// <summary>One ONNX file of the bundle and the tensors it is expected to take and produce.</summary>
public sealed record ComponentSpec
{
    /// <summary>Path relative to the bundle folder.</summary>
    public required string File { get; init; }

    // "?? []": the source-generated deserializer assigns every init-only property, null when absent from the JSON.
    public IReadOnlyList<TensorSpec> Inputs { get; init => field = value ?? []; } = [];
    public IReadOnlyList<TensorSpec> Outputs { get; init => field = value ?? []; } = [];
}

public sealed record TensorSpec
{
    public required string Name { get; init; }

    /// <summary>"float32", "int64", "int32", ... (see <see cref="BundleValidator.KnownDtypes"/>).</summary>
    public required string Dtype { get; init; }

    public IReadOnlyList<TensorDim> Shape { get; init => field = value ?? []; } = [];
}

/// <summary>A shape entry: a fixed size (JSON number) or a symbolic name such as "batch" (JSON string).</summary>
[JsonConverter(typeof(TensorDimJsonConverter))]
public readonly record struct TensorDim
{
    public TensorDim(long size) => Size = size;

    public TensorDim(string symbol) => Symbol = symbol;

    public long? Size { get; }
    public string? Symbol { get; }

    public override string ToString() => Symbol ?? Size?.ToString(CultureInfo.InvariantCulture) ?? "?";
}

internal sealed class TensorDimJsonConverter : JsonConverter<TensorDim>
{
    public override TensorDim Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number => new TensorDim(reader.GetInt64()),
            JsonTokenType.String => new TensorDim(reader.GetString()!),
            _ => throw new JsonException("a shape entry must be a number or a string"),
        };

    public override void Write(Utf8JsonWriter writer, TensorDim value, JsonSerializerOptions options)
    {
        if (value.Symbol is not null)
        {
            writer.WriteStringValue(value.Symbol);
        }
        else
        {
            writer.WriteNumberValue(value.Size ?? 0);
        }
    }
}
