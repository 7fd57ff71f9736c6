using MmServe.Abstractions;

namespace MmServe.Engine.Tests.Fakes;

/// <summary>Token n decodes to one letter ('a' + n % 26) unless a custom mapping is given.</summary>
internal sealed class FakeTokenTextDecoder(IReadOnlySet<int> eosTokenIds, Func<int, string>? textOf = null) : ITokenTextDecoder
{
    public FakeTokenTextDecoder(params int[] eosTokenIds)
        : this(new HashSet<int>(eosTokenIds))
    {
    }

    public static string Letter(int tokenId) => ((char)('a' + tokenId % 26)).ToString();

    public IIncrementalDecoder CreateIncrementalDecoder() => new Decoder(textOf ?? Letter);

    public bool IsEos(int tokenId) => eosTokenIds.Contains(tokenId);

    private sealed class Decoder(Func<int, string> textOf) : IIncrementalDecoder
    {
        public string Push(int tokenId) => textOf(tokenId);

        public string Flush() => string.Empty;
    }
}
