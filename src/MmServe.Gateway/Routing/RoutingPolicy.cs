using Microsoft.Extensions.Options;
using MmServe.Gateway.Options;
using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Routing;

internal enum RoutingReason
{
    /// <summary>The worker that was last sent one of the request's media (or its conversation), not overloaded.</summary>
    Affinity,

    /// <summary>Fewest waiting + running requests, from fresh load reports of every candidate.</summary>
    LeastLoaded,

    /// <summary>Some load report was stale: the less busy of two random candidates, by the gateway's own in-flight counts.</summary>
    PowerOfTwoChoices,

    /// <summary>No healthy worker serves the model (or, on a retry, none other than the one that failed).</summary>
    NoWorker,
}

internal readonly record struct RoutingDecision(Worker? Worker, RoutingReason Reason);

/// <summary>
/// Picks the worker for one request (docs/gateway.md, "Routing"):
/// 1. the pool: healthy workers serving the request's model (all healthy workers when no worker reports the model,
///    so that one of them answers the usual 404), minus the worker a retry must avoid;
/// 2. media affinity: the worker last sent one of the request's media, or the same conversation, unless it carries
///    more than Routing:AffinityMaxExtraLoad requests above the least-loaded candidate;
/// 3. load: fewest waiting + running requests when every candidate's report is fresh, where a report is corrected by
///    the requests the gateway has started or finished on the worker since (so a burst between two polls spreads);
/// 4. otherwise power of two choices on the gateway's own in-flight counts.
/// </summary>
internal sealed class RoutingPolicy(IOptions<GatewayOptions> options, AffinityTable affinity, TimeProvider time, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;

    public RoutingDecision Choose(IReadOnlyList<Worker> workers, RouteKeys keys, bool grpc, Worker? exclude = null)
    {
        var pool = Pool(workers, keys.Model, grpc, exclude);
        if (pool.Count == 0)
        {
            return new RoutingDecision(null, RoutingReason.NoWorker);
        }

        var fresh = new int?[pool.Count];
        bool allFresh = true;
        for (int i = 0; i < pool.Count; i++)
        {
            fresh[i] = FreshLoad(pool[i]);
            allFresh &= fresh[i] is not null;
        }

        // One measure for every candidate: reported load when all reports are fresh, else the gateway's own counts.
        var load = new int[pool.Count];
        for (int i = 0; i < pool.Count; i++)
        {
            load[i] = allFresh ? fresh[i]!.Value : pool[i].InFlight;
        }

        if (AffinityChoice(pool, load, keys) is { } preferred)
        {
            return new RoutingDecision(preferred, RoutingReason.Affinity);
        }

        if (allFresh)
        {
            return new RoutingDecision(LeastLoaded(pool, load), RoutingReason.LeastLoaded);
        }

        return new RoutingDecision(PowerOfTwo(pool), RoutingReason.PowerOfTwoChoices);
    }

    /// <summary>The chosen worker now holds the request's media and conversation.</summary>
    public void Remember(RouteKeys keys, Worker worker) => affinity.Record(keys.Record, worker.Name);

    /// <summary>
    /// The worker's reported waiting + running, plus the requests the gateway started on it since the report minus
    /// those that finished (never below the gateway's own in-flight count); null when the report is stale or missing.
    /// </summary>
    internal int? FreshLoad(Worker worker)
    {
        if (worker.Load is not { } sample || time.GetElapsedTime(sample.Timestamp) > options.Value.Load.StaleAfter)
        {
            return null;
        }

        int inFlight = worker.InFlight;
        return Math.Max(inFlight, sample.WaitingAndRunning + inFlight - sample.InFlightAtSample);
    }

    private static List<Worker> Pool(IReadOnlyList<Worker> workers, string? model, bool grpc, Worker? exclude)
    {
        bool modelKnown = model is not null && workers.Any(w => w.Models?.Contains(model) == true);
        var pool = new List<Worker>(workers.Count);
        foreach (var worker in workers)
        {
            if (worker.Healthy
                && worker != exclude
                && (!grpc || worker.Address.Grpc is not null)
                && (!modelKnown || worker.Models?.Contains(model!) == true))
            {
                pool.Add(worker);
            }
        }

        return pool;
    }

    private Worker? AffinityChoice(List<Worker> pool, int[] load, RouteKeys keys)
    {
        int best = -1;
        int bestVotes = 0;
        Span<int> votes = stackalloc int[pool.Count];
        foreach (var key in keys.Lookup)
        {
            if (affinity.Find(key) is not { } name)
            {
                continue;
            }

            for (int i = 0; i < pool.Count; i++)
            {
                if (pool[i].Name == name)
                {
                    votes[i]++;
                    if (votes[i] > bestVotes || (votes[i] == bestVotes && load[i] < load[best]))
                    {
                        (best, bestVotes) = (i, votes[i]);
                    }
                }
            }
        }

        if (best < 0)
        {
            return null;
        }

        int least = load.Min();
        return load[best] - least <= options.Value.Routing.AffinityMaxExtraLoad ? pool[best] : null;
    }

    /// <summary>Fewest requests; ties broken at random so that idle workers share a burst.</summary>
    private Worker LeastLoaded(List<Worker> pool, int[] load)
    {
        int least = load.Min();
        int ties = load.Count(l => l == least);
        int pick = _random.Next(ties);
        for (int i = 0; i < pool.Count; i++)
        {
            if (load[i] == least && pick-- == 0)
            {
                return pool[i];
            }
        }

        throw new InvalidOperationException("unreachable");
    }

    private Worker PowerOfTwo(List<Worker> pool)
    {
        if (pool.Count == 1)
        {
            return pool[0];
        }

        int a = _random.Next(pool.Count);
        int b = _random.Next(pool.Count - 1);
        if (b >= a)
        {
            b++;
        }

        return pool[b].InFlight < pool[a].InFlight ? pool[b] : pool[a];
    }
}
