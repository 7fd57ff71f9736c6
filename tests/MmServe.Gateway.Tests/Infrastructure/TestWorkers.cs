using MmServe.Gateway.Discovery;
using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Tests.Infrastructure;

internal static class TestWorkers
{
    /// <summary>A healthy worker at 10.0.0.{n} serving <paramref name="models"/> (default "m").</summary>
    public static Worker Healthy(int n, params string[] models)
    {
        var worker = new Worker(WorkerAddress.Create($"http://10.0.0.{n}:8080", $"http://10.0.0.{n}:8081"));
        worker.SetModels(new HashSet<string>(models.Length == 0 ? ["m"] : models), 0);
        worker.SetHealthy(true);
        return worker;
    }

    /// <summary>Puts <paramref name="count"/> requests of the gateway's own in flight on the worker.</summary>
    public static Worker WithInFlight(this Worker worker, int count)
    {
        for (int i = 0; i < count; i++)
        {
            worker.Enter();
        }

        return worker;
    }
}
