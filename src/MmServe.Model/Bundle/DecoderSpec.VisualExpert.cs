namespace MmServe.Model.Bundle;

public sealed partial record DecoderSpec
{
    /// <summary>
    /// The decoder's token type input ([batch, sequence] int64), for a visual-expert decoder (CogVLM): each position's
    /// type picks the weights it goes through. Null for decoders without one. Requires <see cref="VisualExpert"/>.
    /// </summary>
    public string? TokenTypeIds { get; init; }

    /// <summary>How prompts of a visual-expert decoder get their token types and positions; null for other decoders.</summary>
    public VisualExpertSpec? VisualExpert { get; init; }
}

/// <summary>
/// manifest.json "decoder.visual_expert" (CogVLM family): the positions of items of <see cref="Modalities"/> get
/// <see cref="ExpertType"/>, every other position (text, and every generated token) <see cref="TextType"/>; the prompt's
/// positions follow <see cref="Positions"/>. The KV cache is one ordinary cache: only the weights differ per position.
/// </summary>
public sealed record VisualExpertSpec
{
    /// <summary>CogVLM2's build_position_ids: in each run of expert tokens the first and last advance the position
    /// like text and the tokens between them share one position.</summary>
    public const string PositionsCogVlm2 = "cogvlm2";

    /// <summary>Positions are the token index, as for any decoder.</summary>
    public const string PositionsTokenIndex = "token_index";

    /// <summary>Input modalities whose placeholder runs are expert positions (e.g. ["image"]).</summary>
    public required IReadOnlyList<string> Modalities { get; init; }

    public required int TextType { get; init; }

    public required int ExpertType { get; init; }

    /// <summary><see cref="PositionsCogVlm2"/> or <see cref="PositionsTokenIndex"/>.</summary>
    public required string Positions { get; init; }
}
