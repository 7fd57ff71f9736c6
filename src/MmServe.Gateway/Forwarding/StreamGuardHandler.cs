using System.Net;

namespace MmServe.Gateway.Forwarding;

/// <summary>
/// Sits between YARP and the sockets: a forwarded SSE or gRPC response gets its body wrapped in a
/// <see cref="GuardedStream"/>, so that a worker dying mid-stream ends the client's stream cleanly.
/// </summary>
internal sealed class StreamGuardHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var framing = StreamFramings.For(response.Content.Headers.ContentType?.MediaType);
        if (framing != StreamFraming.None && request.Options.TryGetValue(GatewayTransformer.AttemptOption, out var attempt))
        {
            response.Content = new GuardedContent(response.Content, framing, attempt);
        }

        return response;
    }

    private sealed class GuardedContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly StreamFraming _framing;
        private readonly ForwardingAttempt _attempt;

        public GuardedContent(HttpContent inner, StreamFraming framing, ForwardingAttempt attempt)
        {
            (_inner, _framing, _attempt) = (inner, framing, attempt);
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new GuardedStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _framing, _attempt);

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await using var source = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
