using MmServe.Model.Bundle;
using MmServe.Model.Chat;
using MmServe.Serving.Sessions;

namespace MmServe.Serving.Tests.Families;

/// <summary>
/// CogVLM2's build_position_ids as MmServe implements it (docs/model-bundle.md, visual expert): in a run of expert tokens
/// the first and last advance like text, the ones between share a position; generated tokens continue after the last
/// prompt position. Values worked out by hand from transformers' CogVLM2 code.
/// </summary>
public sealed class CogVlmPositionsTests
{
    [Fact]
    public void A_run_of_image_tokens_takes_three_positions()
    {
        // t t [i i i i i] t t
        var positions = CogVlmPositions.Compute([0, 0, 1, 1, 1, 1, 1, 0, 0], expertType: 1);
        Assert.Equal([0L, 1, 2, 3, 3, 3, 4, 5, 6], positions.Prompt(0).ToArray());
        Assert.Equal(7, positions.At(0, 9)); // the first generated token
        Assert.Equal(-2, positions.Delta);
    }

    [Fact]
    public void Runs_of_one_and_two_advance_like_text_and_each_run_is_compressed_on_its_own()
    {
        // [i] t [i i] t [i i i i] t
        var positions = CogVlmPositions.Compute([1, 0, 1, 1, 0, 1, 1, 1, 1, 0], expertType: 1);
        Assert.Equal([0L, 1, 2, 3, 4, 5, 6, 6, 7, 8], positions.Prompt(0).ToArray());
    }

    [Fact]
    public void Text_only_prompts_keep_the_token_index()
    {
        var positions = CogVlmPositions.Compute([0, 0, 0, 0], expertType: 1);
        Assert.Equal([0L, 1, 2, 3], positions.Prompt(0).ToArray());
        Assert.Equal(0, positions.Delta);
    }

    [Fact]
    public void The_prompt_gets_expert_types_on_its_expert_modalities_only()
    {
        var decoder = new DecoderSpec
        {
            Component = "decoder", HiddenSize = 4, NumLayers = 1, NumAttentionHeads = 1, NumKvHeads = 1, HeadDim = 4, VocabSize = 8,
            InputsEmbeds = "e", AttentionMask = "m", PositionIds = "p", PastKey = "k{layer}", PastValue = "v{layer}", Logits = "l",
            PresentKey = "pk{layer}", PresentValue = "pv{layer}", KvLayout = DecoderSpec.KvLayoutBatchHeadsSeqDim,
            TokenTypeIds = "token_type_ids",
            VisualExpert = new VisualExpertSpec { Modalities = ["image"], TextType = 0, ExpertType = 1, Positions = VisualExpertSpec.PositionsCogVlm2 },
        };
        var prompt = new TokenizedPrompt(new int[10], [new MediaSpan("image", 0, 1, 4), new MediaSpan("audio", 1, 6, 3)]);

        var applied = VisualExpertPrompt.Apply(decoder, prompt);

        Assert.Equal([0, 1, 1, 1, 1, 0, 0, 0, 0, 0], applied.TokenTypes!.Prompt.ToArray());
        Assert.Equal([0L, 1, 2, 2, 3, 4, 5, 6, 7, 8], applied.Positions!.Prompt(0).ToArray());
        Assert.Same(prompt, VisualExpertPrompt.Apply(decoder with { VisualExpert = null, TokenTypeIds = null }, prompt));
    }
}
