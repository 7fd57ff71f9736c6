using System.Net;
using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

public sealed class AddressPolicyTests
{
    private static readonly AddressPolicy DefaultPolicy = new([]);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.255.254")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")] // cloud metadata
    [InlineData("100.64.0.1")] // carrier-grade NAT
    [InlineData("100.127.255.255")]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("192.0.2.1")]
    [InlineData("198.18.0.1")]
    [InlineData("198.51.100.1")]
    [InlineData("203.0.113.5")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fe80::1%2")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("ff02::1")]
    [InlineData("2001:db8::1")]
    [InlineData("::ffff:127.0.0.1")] // IPv4-mapped
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:0.0.0.0")]
    [InlineData("::127.0.0.1")] // deprecated IPv4-compatible
    [InlineData("::10.0.0.1")]
    [InlineData("64:ff9b::a00:1")] // NAT64 of 10.0.0.1
    [InlineData("64:ff9b::7f00:1")] // NAT64 of 127.0.0.1
    [InlineData("2002:7f00:1::")] // 6to4 of 127.0.0.1
    [InlineData("2002:a9fe:a9fe::1")] // 6to4 of 169.254.169.254
    [InlineData("2001::1")] // Teredo
    public void Blocks_non_public_addresses_in_every_spelling(string address)
    {
        Assert.False(DefaultPolicy.IsPermitted(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.15.255.255")] // just outside 172.16/12
    [InlineData("172.32.0.1")]
    [InlineData("100.63.255.255")] // just outside 100.64/10
    [InlineData("100.128.0.1")]
    [InlineData("169.253.255.255")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")] // NAT64 of 8.8.8.8
    [InlineData("2002:808:808::1")] // 6to4 of 8.8.8.8
    public void Permits_public_addresses(string address)
    {
        Assert.True(DefaultPolicy.IsPermitted(IPAddress.Parse(address)));
    }

    [Fact]
    public void Allowed_networks_exempt_exactly_their_range_in_any_spelling()
    {
        var policy = new AddressPolicy(["127.0.0.1/32", "fd00:1::/64"]);

        Assert.True(policy.IsPermitted(IPAddress.Parse("127.0.0.1")));
        Assert.True(policy.IsPermitted(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.True(policy.IsPermitted(IPAddress.Parse("fd00:1::5")));
        Assert.False(policy.IsPermitted(IPAddress.Parse("127.0.0.2")));
        Assert.False(policy.IsPermitted(IPAddress.Parse("fd00:2::5")));
        Assert.False(policy.IsPermitted(IPAddress.Parse("169.254.169.254")));
    }
}
