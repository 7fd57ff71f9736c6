using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MmServe.Gateway.Routing;

/// <summary>
/// What routing reads from a request: the model it names, the hashes of the media it carries (SHA-256 of the
/// decoded bytes, or of the URL for media sent by URL) and, for a conversation that already has an assistant turn,
/// the hash of its prefix up to the first user message.
/// </summary>
internal sealed record RouteKeys(string? Model, IReadOnlyList<AffinityKey> Media, AffinityKey? Conversation, bool IsContinuation)
{
    public static RouteKeys None { get; } = new(null, [], null, false);

    /// <summary>The keys affinity looks up: every medium, and the conversation prefix when this is a later turn of it.</summary>
    public IEnumerable<AffinityKey> Lookup => IsContinuation && Conversation is { } conversation ? Media.Append(conversation) : Media;

    /// <summary>The keys recorded for the chosen worker: every medium and the conversation prefix.</summary>
    public IEnumerable<AffinityKey> Record => Conversation is { } conversation ? Media.Append(conversation) : Media;
}

/// <summary>The first 128 bits of a SHA-256, tagged by kind so that a medium and a prefix never collide.</summary>
internal readonly record struct AffinityKey(UInt128 Value)
{
    public static AffinityKey Media(ReadOnlySpan<byte> bytes) => Of(bytes, 0x6d);

    public static AffinityKey Prefix(ReadOnlySpan<byte> bytes) => Of(bytes, 0x70);

    private static AffinityKey Of(ReadOnlySpan<byte> bytes, byte kind)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, hash);
        hash[0] ^= kind;
        return new AffinityKey(BinaryPrimitives.ReadUInt128BigEndian(hash));
    }

    public override string ToString() => Value.ToString("x32", null);
}
