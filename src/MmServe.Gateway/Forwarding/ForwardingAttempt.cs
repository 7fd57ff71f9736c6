using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Forwarding;

/// <summary>
/// One try of a request on one worker, as an HttpContext feature (and an option of the outgoing request): the
/// transformer and the stream guard note here what happened, the forwarder decides from it whether to retry.
/// </summary>
internal sealed class ForwardingAttempt(Worker worker, bool grpc, bool canRetry, bool workerHeader)
{
    public Worker Worker { get; } = worker;

    public bool Grpc { get; } = grpc;

    /// <summary>The body can be replayed and this is the first try: a failure before any response byte goes to another worker.</summary>
    public bool CanRetry { get; } = canRetry;

    public bool WorkerHeader { get; } = workerHeader;

    /// <summary>The worker answered 503 (gRPC: UNAVAILABLE without a body) and the answer was held back for a retry.</summary>
    public int? HeldBackStatus { get; set; }

    /// <summary>Some response body bytes have been handed on towards the client.</summary>
    public bool BodyStarted { get; set; }

    /// <summary>The worker's stream broke after it had started; the client got an error event (SSE) or UNAVAILABLE (gRPC).</summary>
    public Exception? StreamFailure { get; set; }
}
