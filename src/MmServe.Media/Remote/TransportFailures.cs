using System.Net.Sockets;
using System.Security.Authentication;

namespace MmServe.Media.Remote;

/// <summary>
/// Turns the exceptions of a failed request into outcomes: policy refusals and permanent failures end the
/// fetch, while connection-level hiccups are marked transient for the retry pipeline. Only fixed messages are
/// produced; exception text can contain internal addresses and never reaches the client.
/// </summary>
internal static class TransportFailures
{
    public static HopOutcome Classify(Exception exception, bool isRedirect)
    {
        if (Find<AddressBlockedException>(exception) is not null)
        {
            return HopOutcome.Failed(RemoteMediaErrors.AddressBlocked(isRedirect));
        }

        if (Find<SocketException>(exception) is { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData })
        {
            return HopOutcome.Failed(RemoteMediaErrors.HostNotFound());
        }

        if (Find<AuthenticationException>(exception) is not null)
        {
            return HopOutcome.Failed(RemoteMediaErrors.SecureConnection());
        }

        return RequestError(exception) switch
        {
            HttpRequestError.NameResolutionError => HopOutcome.Failed(RemoteMediaErrors.HostNotFound()),
            HttpRequestError.SecureConnectionError => HopOutcome.Failed(RemoteMediaErrors.SecureConnection()),

            // A server that speaks broken HTTP will do so again.
            HttpRequestError.InvalidResponse or HttpRequestError.HttpProtocolError or HttpRequestError.ConfigurationLimitExceeded
                => HopOutcome.Failed(RemoteMediaErrors.InvalidResponse()),
            HttpRequestError.ResponseEnded => HopOutcome.TransientFailure(RemoteMediaErrors.InvalidResponse()),
            _ => HopOutcome.TransientFailure(RemoteMediaErrors.Unreachable()),
        };
    }

    private static HttpRequestError RequestError(Exception exception) => exception switch
    {
        HttpRequestException request => request.HttpRequestError,
        HttpIOException io => io.HttpRequestError,
        _ => HttpRequestError.Unknown,
    };

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }
}
