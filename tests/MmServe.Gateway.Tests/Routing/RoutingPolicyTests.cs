using MmServe.Gateway.Options;
using MmServe.Gateway.Routing;
using MmServe.Gateway.Tests.Infrastructure;
using MmServe.Gateway.Workers;

namespace MmServe.Gateway.Tests.Routing;

public sealed class RoutingPolicyTests
{
    private readonly ManualTime _time = new();
    private readonly AffinityTable _affinity = new(1024);

    private RoutingPolicy Policy(int affinityMaxExtraLoad = 4, int seed = 7) => new(
        Microsoft.Extensions.Options.Options.Create(new GatewayOptions
        {
            Load = new LoadOptions { StaleAfter = TimeSpan.FromSeconds(1) },
            Routing = new RoutingOptions { AffinityMaxExtraLoad = affinityMaxExtraLoad },
        }),
        _affinity,
        _time,
        new Random(seed));

    private static RouteKeys Text(string model = "m") => new(model, [], null, false);

    private static RouteKeys WithImage(byte seed, string model = "m") => new(model, [AffinityKey.Media([seed, 1, 2, 3])], null, false);

    private void Report(Worker worker, int waitingAndRunning) => worker.ReportLoad(waitingAndRunning, _time.GetTimestamp());

    [Fact]
    public void FreshLoad_PicksTheWorkerWithFewestWaitingAndRunning()
    {
        var (a, b, c) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2), TestWorkers.Healthy(3));
        Report(a, 5);
        Report(b, 2);
        Report(c, 9);

        var decision = Policy().Choose([a, b, c], Text(), grpc: false);

        Assert.Same(b, decision.Worker);
        Assert.Equal(RoutingReason.LeastLoaded, decision.Reason);
    }

    [Fact]
    public void FreshLoad_CountsRequestsSentSinceTheReport_SoABurstSpreads()
    {
        var (a, b) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2));
        Report(a, 0);
        Report(b, 1);
        var policy = Policy();

        // Between two polls: every request the gateway starts raises the worker's load as routing sees it.
        var chosen = new List<Worker>();
        for (int i = 0; i < 9; i++)
        {
            var worker = policy.Choose([a, b], Text(), grpc: false).Worker!;
            worker.Enter();
            chosen.Add(worker);
        }

        Assert.Equal(5, chosen.Count(w => w == a));
        Assert.Equal(4, chosen.Count(w => w == b));
        Assert.Equal(5, policy.FreshLoad(a));
        Assert.Equal(5, policy.FreshLoad(b));
    }

    [Fact]
    public void FreshLoad_NeverBelowTheGatewaysOwnRequestsInFlight()
    {
        var a = TestWorkers.Healthy(1).WithInFlight(3);
        Report(a, 0); // reported while the three were still on their way

        Assert.Equal(3, Policy().FreshLoad(a));
    }

    [Fact]
    public void TiedLoads_AreBrokenAtRandom_SoIdleWorkersShareTheWork()
    {
        var (a, b) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2));
        Report(a, 0);
        Report(b, 0);
        var policy = Policy();

        var picks = Enumerable.Range(0, 200).Select(_ => policy.Choose([a, b], Text(), grpc: false).Worker).ToList();

        Assert.InRange(picks.Count(w => w == a), 60, 140);
    }

    [Fact]
    public void StaleLoad_FallsBackToPowerOfTwoChoices_OnTheGatewaysInFlightCounts()
    {
        var (a, b) = (TestWorkers.Healthy(1).WithInFlight(6), TestWorkers.Healthy(2).WithInFlight(2));
        Report(a, 0);
        Report(b, 30);
        _time.Advance(TimeSpan.FromSeconds(2));
        var policy = Policy();

        // With two workers both choices are always the pair: the one with fewer requests in flight wins.
        for (int i = 0; i < 20; i++)
        {
            var decision = policy.Choose([a, b], Text(), grpc: false);
            Assert.Same(b, decision.Worker);
            Assert.Equal(RoutingReason.PowerOfTwoChoices, decision.Reason);
        }
    }

    [Fact]
    public void OneMissingReport_IsEnoughToUsePowerOfTwoChoices()
    {
        var (a, b, c) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2), TestWorkers.Healthy(3));
        Report(a, 0);
        Report(b, 0);

        var decision = Policy().Choose([a, b, c], Text(), grpc: false);

        Assert.Equal(RoutingReason.PowerOfTwoChoices, decision.Reason);
    }

    [Fact]
    public void PowerOfTwoChoices_NeverPicksTheBusiestOfThree()
    {
        var (a, b, c) = (TestWorkers.Healthy(1).WithInFlight(1), TestWorkers.Healthy(2).WithInFlight(2), TestWorkers.Healthy(3).WithInFlight(9));
        var policy = Policy();

        var picks = Enumerable.Range(0, 300).Select(_ => policy.Choose([a, b, c], Text(), grpc: false).Worker).ToList();

        Assert.DoesNotContain(c, picks);
        Assert.Contains(a, picks);
        Assert.Contains(b, picks); // b wins when the draw is (b, c)
    }

    [Fact]
    public void Affinity_SendsTheSameImageToTheWorkerThatSawIt_WhileLoadsAreClose()
    {
        var (a, b) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2));
        Report(a, 2);
        Report(b, 0);
        var policy = Policy(affinityMaxExtraLoad: 4);
        policy.Remember(WithImage(1), a);

        var decision = policy.Choose([a, b], WithImage(1), grpc: false);

        Assert.Same(a, decision.Worker);
        Assert.Equal(RoutingReason.Affinity, decision.Reason);
        Assert.Same(b, policy.Choose([a, b], WithImage(2), grpc: false).Worker); // another image: least loaded
    }

    [Fact]
    public void Affinity_YieldsToLoad_WhenTheWorkerIsOverloaded()
    {
        var (a, b) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2));
        Report(a, 5);
        Report(b, 0);
        var policy = Policy(affinityMaxExtraLoad: 4);
        policy.Remember(WithImage(1), a);

        var decision = policy.Choose([a, b], WithImage(1), grpc: false);

        Assert.Same(b, decision.Worker);
        Assert.Equal(RoutingReason.LeastLoaded, decision.Reason);
    }

    [Fact]
    public void Affinity_WithStaleLoad_ComparesTheGatewaysInFlightCounts()
    {
        var (a, b) = (TestWorkers.Healthy(1).WithInFlight(3), TestWorkers.Healthy(2));
        var policy = Policy(affinityMaxExtraLoad: 4);
        policy.Remember(WithImage(1), a);
        Assert.Equal(RoutingReason.Affinity, policy.Choose([a, b], WithImage(1), grpc: false).Reason);

        a.WithInFlight(2); // 5 more than b
        Assert.Equal(RoutingReason.PowerOfTwoChoices, policy.Choose([a, b], WithImage(1), grpc: false).Reason);
    }

    [Fact]
    public void Affinity_FollowsTheMajorityOfTheRequestsMedia()
    {
        var (a, b) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2));
        Report(a, 0);
        Report(b, 0);
        var policy = Policy();
        policy.Remember(WithImage(1), a);
        policy.Remember(WithImage(2), b);
        policy.Remember(WithImage(3), b);
        var keys = new RouteKeys("m", [AffinityKey.Media([1, 1, 2, 3]), AffinityKey.Media([2, 1, 2, 3]), AffinityKey.Media([3, 1, 2, 3])], null, false);

        Assert.Same(b, policy.Choose([a, b], keys, grpc: false).Worker);
    }

    [Fact]
    public void Affinity_ToAnUnhealthyWorker_IsIgnored()
    {
        var (a, b) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2));
        Report(a, 0);
        Report(b, 0);
        var policy = Policy();
        policy.Remember(WithImage(1), a);
        a.SetHealthy(false);

        Assert.Same(b, policy.Choose([a, b], WithImage(1), grpc: false).Worker);
    }

    [Fact]
    public void ConversationPrefix_BindsLaterTurnsOnly()
    {
        var (a, b) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2));
        Report(a, 0);
        Report(b, 0);
        var policy = Policy();
        var prefix = AffinityKey.Prefix("system + first user turn"u8);
        policy.Remember(new RouteKeys("m", [], prefix, IsContinuation: false), a);

        // The same first turn again is a new conversation: no affinity (both idle, so either may be chosen).
        Assert.Equal(RoutingReason.LeastLoaded, policy.Choose([a, b], new RouteKeys("m", [], prefix, false), grpc: false).Reason);

        // A later turn of it (an assistant turn in the history) goes where the conversation went.
        var decision = policy.Choose([a, b], new RouteKeys("m", [], prefix, IsContinuation: true), grpc: false);
        Assert.Same(a, decision.Worker);
        Assert.Equal(RoutingReason.Affinity, decision.Reason);
    }

    [Fact]
    public void ModelPool_OnlyWorkersServingTheModelAreCandidates()
    {
        var (a, b) = (TestWorkers.Healthy(1, "tiny"), TestWorkers.Healthy(2, "tiny", "llava"));
        Report(a, 0);
        Report(b, 50);

        Assert.Same(b, Policy().Choose([a, b], Text("llava"), grpc: false).Worker);
        Assert.Same(a, Policy().Choose([a, b], Text("tiny"), grpc: false).Worker);
    }

    [Fact]
    public void ModelPool_AModelNoWorkerServes_GoesToAnyWorker_WhichAnswers404()
    {
        var (a, b) = (TestWorkers.Healthy(1, "tiny"), TestWorkers.Healthy(2, "tiny"));
        Report(a, 3);
        Report(b, 1);

        Assert.Same(b, Policy().Choose([a, b], Text("unknown"), grpc: false).Worker);
        Assert.Same(b, Policy().Choose([a, b], RouteKeys.None, grpc: false).Worker);
    }

    [Fact]
    public void ModelPool_WhenEveryWorkerOfTheModelIsDown_NoWorker()
    {
        var (a, b) = (TestWorkers.Healthy(1, "tiny"), TestWorkers.Healthy(2, "llava"));
        b.SetHealthy(false);

        var decision = Policy().Choose([a, b], Text("llava"), grpc: false);

        Assert.Null(decision.Worker);
        Assert.Equal(RoutingReason.NoWorker, decision.Reason);
    }

    [Fact]
    public void Retry_AvoidsTheWorkerThatFailed_EvenWhenAffinityPointsThere()
    {
        var (a, b) = (TestWorkers.Healthy(1), TestWorkers.Healthy(2));
        Report(a, 0);
        Report(b, 3);
        var policy = Policy();
        policy.Remember(WithImage(1), a);

        Assert.Same(b, policy.Choose([a, b], WithImage(1), grpc: false, exclude: a).Worker);
        Assert.Null(policy.Choose([a], WithImage(1), grpc: false, exclude: a).Worker);
    }

    [Fact]
    public void Grpc_OnlyWorkersWithAGrpcAddress()
    {
        var a = TestWorkers.Healthy(1);
        var b = new Worker(MmServe.Gateway.Discovery.WorkerAddress.Create("http://10.0.0.2:8080", null));
        b.SetModels(new HashSet<string> { "m" }, 0);
        b.SetHealthy(true);
        Report(a, 9);
        Report(b, 0);

        Assert.Same(a, Policy().Choose([a, b], Text(), grpc: true).Worker);
        Assert.Same(b, Policy().Choose([a, b], Text(), grpc: false).Worker);
    }
}
