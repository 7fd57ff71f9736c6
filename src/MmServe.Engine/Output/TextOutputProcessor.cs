using System.Text;
using MmServe.Abstractions;

namespace MmServe.Engine.Output;

/// <summary>
/// Detokenizes one request incrementally and applies its stop strings. Text that could be the beginning of a
/// stop string is held back until it is known not to be one, so a matched stop string is never emitted, even in
/// part, and everything before it is.
/// </summary>
internal sealed class TextOutputProcessor
{
    private readonly IIncrementalDecoder _decoder;
    private readonly IReadOnlyList<string> _stops;
    private readonly StringBuilder _pending = new();

    public TextOutputProcessor(IIncrementalDecoder decoder, IReadOnlyList<string> stops)
    {
        _decoder = decoder;
        _stops = stops;
    }

    /// <summary>A stop string appeared; the request must finish with <see cref="FinishReason.Stop"/>.</summary>
    public bool StopMatched { get; private set; }

    /// <summary>Decodes a generated token and returns the text that is now safe to emit (possibly empty).</summary>
    public string Push(int tokenId)
    {
        if (StopMatched)
        {
            return string.Empty;
        }

        string piece = _decoder.Push(tokenId);
        if (_stops.Count == 0)
        {
            return piece;
        }

        _pending.Append(piece);
        return TakeEmittable(endOfText: false);
    }

    /// <summary>At the end of generation: flushes the decoder and returns all remaining text before any stop string.</summary>
    public string Finish()
    {
        if (StopMatched)
        {
            return string.Empty;
        }

        string tail = _decoder.Flush();
        if (_stops.Count == 0)
        {
            return tail;
        }

        _pending.Append(tail);
        return TakeEmittable(endOfText: true);
    }

    private string TakeEmittable(bool endOfText)
    {
        // The pending text stays short (at most the longest stop string plus one token's text), so scanning it
        // each step is cheap.
        string pending = _pending.ToString();
        int stopAt = FindEarliestStop(pending);
        if (stopAt >= 0)
        {
            StopMatched = true;
            _pending.Clear();
            return pending[..stopAt];
        }

        int held = endOfText ? 0 : LongestStopPrefixSuffix(pending);
        _pending.Clear().Append(pending, pending.Length - held, held);
        return pending[..^held];
    }

    private int FindEarliestStop(string text)
    {
        int earliest = -1;
        foreach (string stop in _stops)
        {
            int index = text.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (earliest < 0 || index < earliest))
            {
                earliest = index;
            }
        }

        return earliest;
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of a stop string.</summary>
    private int LongestStopPrefixSuffix(string text)
    {
        int longest = 0;
        foreach (string stop in _stops)
        {
            for (int length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }

        return longest;
    }
}
