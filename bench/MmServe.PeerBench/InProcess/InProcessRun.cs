namespace MmServe.PeerBench.InProcess;

/// <summary>
/// One run of the "mmserve-inproc" arm, as MmServe.PeerBench sends it to MmServe.PeerBench.InProcess (one JSON line
/// on its standard input; the answer is the run's <c>RunResult</c>, one JSON line on its standard output).
/// </summary>
internal sealed record InProcessRun(IReadOnlyList<InProcessRequest> Requests, int? Concurrency, double? Rate, int Seed);

/// <summary>One request: the user's text (the arm renders the chat template and tokenizes it, as the server does) and how many tokens it must generate.</summary>
internal sealed record InProcessRequest(int Index, string UserText, int OutputTokens);
