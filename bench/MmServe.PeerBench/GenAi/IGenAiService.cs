using MmServe.Bench.Client;
using MmServe.PeerBench.Workload;

namespace MmServe.PeerBench.GenAi;

/// <summary>ORT GenAI behind a request queue, the way a .NET service would put it behind an endpoint.</summary>
internal interface IGenAiService : IDisposable
{
    Task<RequestResult> SendAsync(PeerRequest request);
}
