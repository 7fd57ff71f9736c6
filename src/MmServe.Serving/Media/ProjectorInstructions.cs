using MmServe.Model.Bundle;
using MmServe.Model.Chat;
using MmServe.Model.Tokenization;

namespace MmServe.Serving.Media;

/// <summary>
/// The instruction an instruction-aware projector (InstructBLIP's Q-Former, manifest "instruction") reads with each
/// item: the text parts of the message that holds the item, joined with the chat template's part separator,
/// tokenized as plain text (a typed "&lt;|im_end|&gt;" stays bytes), cut to max_tokens ids.
/// </summary>
public sealed class ProjectorInstructions(
    IReadOnlyDictionary<string, InputModalitySpec> modalities, ITextTokenizer tokenizer, string partSeparator)
{
    public static ProjectorInstructions? For(ServedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var manifest = model.Bundle.Manifest;
        return manifest.InputModalities.Values.Any(m => m.Instruction is not null)
            ? new ProjectorInstructions(manifest.InputModalities, model.Tokenizer, manifest.ChatTemplate.PartSeparator)
            : null;
    }

    /// <summary>Per media item (request order): its instruction ids, or null when its modality takes none.</summary>
    /// <param name="conversation">The turns, media numbered in request order (<see cref="ChatPart.Media.Index"/>).</param>
    /// <param name="itemCount">Media items in the request.</param>
    public IReadOnlyList<int[]?> Build(IReadOnlyList<ChatTurn> conversation, int itemCount)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var result = new int[]?[itemCount];
        foreach (var turn in conversation)
        {
            int[]? ids = null;
            foreach (var part in turn.Parts)
            {
                if (part is not ChatPart.Media media || media.Index >= itemCount
                    || !modalities.TryGetValue(media.Modality, out var spec) || spec.Instruction is not { } instruction)
                {
                    continue;
                }

                ids ??= tokenizer.Encode([TextSegment.Untrusted(string.Join(partSeparator, turn.Parts.OfType<ChatPart.Text>().Select(t => t.Value)))]);
                result[media.Index] = ids.Length > instruction.MaxTokens ? ids[..instruction.MaxTokens] : ids;
            }
        }

        return result;
    }

    /// <summary>
    /// The chain's item (<see cref="Runtime.Onnx.Execution.InstructedEncoderChain"/>): the preprocessed image, then the
    /// ids padded with <paramref name="padId"/> and the mask, max_tokens each, as floats.
    /// </summary>
    public static float[] Append(float[] pixels, ReadOnlySpan<int> ids, int maxTokens, int padId)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        var item = new float[pixels.Length + (2 * maxTokens)];
        pixels.CopyTo(item, 0);
        for (int k = 0; k < maxTokens; k++)
        {
            bool real = k < ids.Length;
            item[pixels.Length + k] = real ? ids[k] : padId;
            item[pixels.Length + maxTokens + k] = real ? 1f : 0f;
        }

        return item;
    }
}

/// <summary>What a modality's instruction-aware chain needs of each item's instruction.</summary>
public sealed record ProjectorInstructionInput(int MaxTokens, int PadId);
