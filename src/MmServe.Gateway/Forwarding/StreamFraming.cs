using System.Buffers.Binary;

namespace MmServe.Gateway.Forwarding;

/// <summary>How a streamed response body divides into whole messages, so that a broken stream is cut between them.</summary>
internal enum StreamFraming
{
    None,

    /// <summary>text/event-stream: an event ends with a blank line ("\n\n", or "\r\n\r\n").</summary>
    ServerSentEvents,

    /// <summary>application/grpc: 1 flag byte, a 4-byte big-endian length, then the message.</summary>
    Grpc,
}

internal static class StreamFramings
{
    public static StreamFraming For(string? mediaType) => mediaType switch
    {
        "text/event-stream" => StreamFraming.ServerSentEvents,
        not null when mediaType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) => StreamFraming.Grpc,
        _ => StreamFraming.None,
    };

    /// <summary>
    /// The end of the last whole message in <paramref name="data"/>, which starts at a message boundary (0 when it
    /// holds no whole message yet).
    /// </summary>
    public static int WholeMessagesLength(this StreamFraming framing, ReadOnlySpan<byte> data)
    {
        switch (framing)
        {
            case StreamFraming.ServerSentEvents:
                for (int i = data.Length - 1; i >= 1; i--)
                {
                    if (data[i] == '\n' && (data[i - 1] == '\n' || (i >= 2 && data[i - 1] == '\r' && data[i - 2] == '\n')))
                    {
                        return i + 1;
                    }
                }

                return 0;
            case StreamFraming.Grpc:
                int position = 0;
                while (data.Length - position >= 5)
                {
                    long end = position + 5L + BinaryPrimitives.ReadUInt32BigEndian(data.Slice(position + 1, 4));
                    if (end > data.Length)
                    {
                        break;
                    }

                    position = (int)end;
                }

                return position;
            default:
                return data.Length;
        }
    }
}
