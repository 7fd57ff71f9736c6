using System.Text;
using MmServe.Serving.Errors;
using MmServe.Serving.Generation;

namespace MmServe.Serving.Sessions;

/// <summary>A whole generation, for answers that are not streamed.</summary>
/// <param name="Logprobs">Every token's entry when logprobs were asked for, else null.</param>
public sealed record GenerationResult(
    string Text,
    IReadOnlyList<int> TokenIds,
    IReadOnlyList<LogprobEntry>? Logprobs,
    IReadOnlyList<GeneratedMedia> Media,
    SessionFinished Finished);

public static class GenerationSessionExtensions
{
    /// <summary>Reads every event: the result (its reason may be Cancelled) or the failure.</summary>
    public static async Task<(GenerationResult? Result, ServingError? Error)> CompleteAsync(this GenerationSession session, CancellationToken ct)
    {
        var text = new StringBuilder();
        var tokens = new List<int>();
        var logprobs = session.ReturnsLogprobs ? new List<LogprobEntry>() : null;
        var media = new List<GeneratedMedia>();
        await foreach (var item in session.ReadEventsAsync(ct).ConfigureAwait(false))
        {
            switch (item)
            {
                case TextDelta delta:
                    text.Append(delta.Text);
                    tokens.AddRange(delta.TokenIds);
                    logprobs?.AddRange(delta.Logprobs ?? []);

                    break;
                case MediaReady ready:
                    media.Add(ready.Media);
                    break;
                case SessionFinished finished:
                    return (new GenerationResult(text.ToString(), tokens, logprobs, media, finished), null);
                case SessionFailed failed:
                    return (null, failed.Error);
            }
        }

        // ReadEventsAsync always ends with a terminal event or throws.
        throw new InvalidOperationException("The session ended without a terminal event.");
    }
}
