using MmServe.Abstractions;

namespace MmServe.Model.Tokenization;

/// <summary>The engine's view of a tokenizer: streaming detokenization (special tokens hidden) and the EOS set.</summary>
public sealed class TokenTextDecoder(ITextTokenizer tokenizer, IEnumerable<int> eosTokenIds) : ITokenTextDecoder
{
    private readonly HashSet<int> _eos = [.. eosTokenIds];

    public IIncrementalDecoder CreateIncrementalDecoder() => new StreamingDetokenizer(tokenizer);

    public bool IsEos(int tokenId) => _eos.Contains(tokenId);
}
