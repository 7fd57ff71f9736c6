using System.Text;
using MmServe.Engine.Constraints;

namespace MmServe.Engine.Tests.Constraints;

/// <summary>
/// A 64-token vocabulary for the fake model in which JSON can be written: structural tokens, merged tokens that
/// cross JSON boundaries ("{\"", "\":"), a two-byte character split over two tokens, a special token and EOS.
/// </summary>
internal static class JsonTestVocabulary
{
    public const int Eos = 0;
    public const int Special = 39;

    private static readonly byte[][] Tokens = Build();

    public static int Size => Tokens.Length;

    public static TokenVocabulary Create() => new(Tokens, id => id == Special, [Eos]);

    public static string TextOf(IEnumerable<int> ids) =>
        Encoding.UTF8.GetString(ids.Where(id => id != Eos).SelectMany(id => Tokens[id]).ToArray());

    public static int IdOf(string text) => Array.FindIndex(Tokens, t => t.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(text)));

    private static byte[][] Build()
    {
        string[] texts =
        [
            "<eos>", "{", "}", "[", "]", "\"", ":", ",", " ", "\n", "a", "b", "ab", "0", "1", "7", "-", ".", "e", "true",
            "false", "null", "\"name\"", "\":", "\\", "n", "é", "", "", "{\"", "\"}", "x", "  ", "tr", "ue", "na", "me",
            "age", "\"age\"", "<|special|>",
        ];
        var tokens = texts.Select(Encoding.UTF8.GetBytes).ToList();
        tokens[27] = [0xC3];
        tokens[28] = [0xA9];
        for (char c = 'c'; tokens.Count < 64; c++)
        {
            tokens.Add([(byte)c]);
        }

        return [.. tokens];
    }
}
