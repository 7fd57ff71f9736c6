using MmServe.Gateway.Routing;

namespace MmServe.Gateway.Tests.Routing;

public sealed class AffinityTableTests
{
    private static AffinityKey Key(byte b) => AffinityKey.Media([b]);

    [Fact]
    public void Capacity_EvictsTheLeastRecentlyUsed()
    {
        var table = new AffinityTable(2);
        table.Record([Key(1)], "a");
        table.Record([Key(2)], "b");
        Assert.Equal("a", table.Find(Key(1))); // 1 is now the most recent

        table.Record([Key(3)], "c");

        Assert.Equal(2, table.Count);
        Assert.Null(table.Find(Key(2)));
        Assert.Equal("a", table.Find(Key(1)));
        Assert.Equal("c", table.Find(Key(3)));
    }

    [Fact]
    public void Record_MovesAKeyToTheLatestWorker()
    {
        var table = new AffinityTable(4);
        table.Record([Key(1)], "a");
        table.Record([Key(1)], "b");

        Assert.Equal("b", table.Find(Key(1)));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void ZeroCapacity_RemembersNothing()
    {
        var table = new AffinityTable(0);
        table.Record([Key(1)], "a");

        Assert.Null(table.Find(Key(1)));
    }

    [Fact]
    public void MediaAndPrefixKeysOfTheSameBytes_Differ()
    {
        Assert.NotEqual(AffinityKey.Media("x"u8), AffinityKey.Prefix("x"u8));
    }
}
