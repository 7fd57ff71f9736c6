using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Model.Bundle;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// token_type_ids for visual-expert decoders (CogVLM, manifest decoder.token_type_ids): [batch, seq] int64 next to
/// position_ids, each row's types from its <see cref="SequenceInput.TokenTypes"/> (text type when absent or past the
/// prompt; padding slots get the text type too, masked out anyway). Only the host concat path feeds them: the shared-KV
/// (GroupQueryAttention) step and the device path bind their own inputs, so such decoders are refused there at load.
/// </summary>
public sealed partial class OnnxModelExecutor
{
    private long[] _tokenTypes = [];

    /// <summary>The decoder's token type input, or null.</summary>
    private static string? TokenTypeInput(DecoderSpec spec, bool sharedKv, bool onDevice)
    {
        if (spec.TokenTypeIds is not { } name)
        {
            return null;
        }

        if (sharedKv || onDevice)
        {
            throw new NotSupportedException(
                $"decoder '{spec.Component}' takes token types ({name}, a visual-expert decoder): only its concat form on the host KV path feeds them, "
                + (sharedKv ? "not a shared KV buffer (kv_buffer \"shared\"); serve the manifest's decoder instead of this variant" : "not the CUDA device path"));
        }

        return name;
    }

    private int TextType => _spec.VisualExpert?.TextType ?? 0;

    /// <summary>Types of the decode step's rows: each decoding row's next token, the text type for the others.</summary>
    private void FillDecodeTokenTypes(IReadOnlyList<SequenceInput> inputs, int batch)
    {
        if (_tokenTypeInput is null)
        {
            return;
        }

        Grow(ref _tokenTypes, batch);
        _tokenTypes.AsSpan(0, batch).Fill(TextType);
        foreach (int r in _decodeRows)
        {
            var input = inputs[r];
            _tokenTypes[_batchIds.IndexOf(input.SequenceId)] = input.TokenTypes?.At(input.StartPosition) ?? TextType;
        }
    }

    /// <summary>Types of prefill row <paramref name="row"/>, left-padded to <paramref name="len"/> like its ids.</summary>
    private void FillPrefillTokenTypes(SequenceInput input, int row, int batch, int len)
    {
        if (_tokenTypeInput is null)
        {
            return;
        }

        Grow(ref _tokenTypes, batch * len);
        var types = _tokenTypes.AsSpan(row * len, len);
        int pad = len - input.TokenIds.Length;
        types[..pad].Fill(TextType);
        for (int j = 0; j < input.TokenIds.Length; j++)
        {
            types[pad + j] = input.TokenTypes?.At(input.StartPosition + j) ?? TextType;
        }
    }

    private void AddTokenTypes(List<OrtValue> values, int batch, int seq)
    {
        if (_tokenTypeInput is not null)
        {
            values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _tokenTypes.AsMemory(0, batch * seq), [batch, seq]));
        }
    }
}
