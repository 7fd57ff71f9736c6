using MmServe.Serving.Errors;

namespace MmServe.Serving.Admission;

/// <summary>
/// A client's tokens-per-minute allowance, supplied by the edge that knows the client (its API key or address).
/// The session reserves the prompt plus the completion budget as soon as the prompt's length is known — before the
/// request reaches the engine and, for most models, before its media are decoded — and settles the reservation to
/// the real usage when the generation ends, so a short answer does not cost its whole max_tokens.
/// </summary>
public interface ITokenBudget
{
    /// <param name="promptTokens">The prompt as the model sees it, media placeholders included.</param>
    /// <param name="maxCompletionTokens">max_tokens, or what the context leaves when the client set none.</param>
    /// <returns>The reservation, or the refusal (<see cref="ServingErrorKind.RateLimited"/>) when the allowance cannot cover it now.</returns>
    (ITokenReservation? Reservation, ServingError? Refused) Reserve(int promptTokens, int maxCompletionTokens);
}

/// <summary>Tokens held for one generation until its real usage is known.</summary>
public interface ITokenReservation
{
    /// <summary>Charges <paramref name="usedTokens"/> (prompt + completion) and gives the rest back. Only the first call counts.</summary>
    void Settle(int usedTokens);
}

/// <summary>How <see cref="Sessions.PromptPreparer"/> asks for admission once the prompt's length is known.</summary>
/// <returns>null when admitted; otherwise the refusal.</returns>
public delegate ServingError? TokenAdmission(int promptTokens, int maxCompletionTokens);
