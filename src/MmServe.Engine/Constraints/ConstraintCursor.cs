namespace MmServe.Engine.Constraints;

/// <summary>One sequence's position in its grammar: masks its logits before sampling, then follows the sampled token.</summary>
internal sealed class ConstraintCursor(TokenConstraint constraint)
{
    private int _state = constraint.Start;

    /// <summary>Disallowed tokens' logits become -Infinity; <paramref name="tokensLeft"/> counts this step's token.</summary>
    public void Mask(Span<float> logits, int tokensLeft) => constraint.Mask(_state, tokensLeft, logits);

    public void Advance(int tokenId)
    {
        if (!constraint.IsEos(tokenId))
        {
            _state = constraint.Advance(_state, tokenId);
        }
    }

    /// <summary>Whether the output so far is complete under the grammar.</summary>
    public bool IsComplete => constraint.IsAccepting(_state);
}
