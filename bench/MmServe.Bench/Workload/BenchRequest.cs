namespace MmServe.Bench.Workload;

/// <summary>One prepared request: the JSON body is built before the clock starts, so serialisation is not timed.</summary>
internal sealed record BenchRequest(int Index, bool HasImage, string Prompt, byte[] Body);
