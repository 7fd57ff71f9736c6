namespace MmServe.Media.Remote;

/// <summary>
/// Thrown from the connect callback when a host resolves to an address the policy refuses. It reaches the
/// fetcher wrapped in an <see cref="HttpRequestException"/>; its type is how a policy refusal is told apart
/// from a network failure (the former is never retried).
/// </summary>
internal sealed class AddressBlockedException() : Exception("The host resolves to an address that the remote media policy blocks.");
