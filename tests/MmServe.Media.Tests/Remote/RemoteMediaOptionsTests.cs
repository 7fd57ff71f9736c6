using System.Net;
using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

public sealed class RemoteMediaOptionsTests
{
    [Fact]
    public void Defaults_refuse_everything_until_an_operator_opts_in()
    {
        var options = new RemoteMediaOptions();

        options.Validate();
        Assert.False(options.Enabled);
        Assert.False(options.AllowHttp);
        Assert.Empty(options.AllowedDomains);
        Assert.Empty(options.AllowedNetworks);
        Assert.Equal(3, options.MaxRedirects);
        Assert.Equal(15, options.TimeoutSeconds);
        Assert.Equal(2, options.MaxRetries);
        Assert.Equal("Media:Remote", RemoteMediaOptions.SectionName);
    }

    [Fact]
    public void Validate_accepts_a_typical_configuration()
    {
        var options = new RemoteMediaOptions
        {
            Enabled = true,
            AllowedDomains = ["cdn.example.com", "*.images.example.org", "203.0.113.7", "[2001:db8::1]", "bücher.example"],
            AllowedNetworks = ["10.1.2.0/24", "127.0.0.1/32", "fd00::/8"],
            MaxRedirects = 0,
            MaxRetries = 0,
            TimeoutSeconds = 1,
        };

        options.Validate();

        // What Validate accepted must mean what the operator wrote once the fetcher builds its policies from it.
        var hosts = new HostAllowlist(options.AllowedDomains);
        Assert.True(hosts.IsAllowed(new Uri("https://cdn.example.com/a.png")));
        Assert.True(hosts.IsAllowed(new Uri("https://a.images.example.org/a.png")));
        Assert.False(hosts.IsAllowed(new Uri("https://images.example.org/a.png"))); // the wildcard names subdomains only
        Assert.True(hosts.IsAllowed(new Uri("https://203.0.113.7/a.png")));
        Assert.True(hosts.IsAllowed(new Uri("https://[2001:db8::1]/a.png")));
        Assert.True(hosts.IsAllowed(new Uri("https://xn--bcher-kva.example/a.png")));
        Assert.False(hosts.IsAllowed(new Uri("https://example.com/a.png")));

        var addresses = new AddressPolicy(options.AllowedNetworks);
        Assert.True(addresses.IsPermitted(IPAddress.Parse("10.1.2.200")));
        Assert.False(addresses.IsPermitted(IPAddress.Parse("10.1.3.1"))); // private, outside the /24
        Assert.True(addresses.IsPermitted(IPAddress.Parse("127.0.0.1")));
        Assert.False(addresses.IsPermitted(IPAddress.Parse("127.0.0.2")));
        Assert.True(addresses.IsPermitted(IPAddress.Parse("fd12::1")));
        Assert.False(addresses.IsPermitted(IPAddress.Parse("fc00::1"))); // unique local, outside fd00::/8
    }

    [Theory]
    [InlineData(nameof(RemoteMediaOptions.MaxRedirects), -1)]
    [InlineData(nameof(RemoteMediaOptions.MaxRedirects), 11)]
    [InlineData(nameof(RemoteMediaOptions.TimeoutSeconds), 0)]
    [InlineData(nameof(RemoteMediaOptions.TimeoutSeconds), -5)]
    [InlineData(nameof(RemoteMediaOptions.TimeoutSeconds), 15_000)] // milliseconds by mistake
    [InlineData(nameof(RemoteMediaOptions.MaxRetries), -1)]
    [InlineData(nameof(RemoteMediaOptions.MaxRetries), 6)]
    public void Validate_rejects_out_of_range_numbers(string property, int value)
    {
        var options = property switch
        {
            nameof(RemoteMediaOptions.MaxRedirects) => new RemoteMediaOptions { MaxRedirects = value },
            nameof(RemoteMediaOptions.TimeoutSeconds) => new RemoteMediaOptions { TimeoutSeconds = value },
            _ => new RemoteMediaOptions { MaxRetries = value },
        };

        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(property, error.ParamName);
    }

    [Theory]
    [InlineData("10.0.0.1/8")] // host bits set beyond the prefix: almost certainly a typo
    [InlineData("10.0.0.0/33")]
    [InlineData("fd00::/129")]
    [InlineData("10.0.0.0")] // a bare address is not a range
    [InlineData("not-a-cidr")]
    [InlineData("10.0.0.0/")]
    [InlineData("")]
    [InlineData("0.0.0.0/0")] // would switch the private-address block off
    [InlineData("::/0")]
    public void Validate_rejects_malformed_or_unbounded_networks(string network)
    {
        var options = new RemoteMediaOptions { AllowedNetworks = [network] };

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(RemoteMediaOptions.AllowedNetworks), error.ParamName);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("*")]
    [InlineData("*.")]
    [InlineData("https://example.com")]
    [InlineData("example.com:443")]
    [InlineData("example.com/images")]
    [InlineData("a.*.example.com")]
    [InlineData("exa mple.com")]
    [InlineData("*.10.0.0.1")]
    public void Validate_rejects_domain_entries_that_are_not_bare_hosts(string domain)
    {
        var options = new RemoteMediaOptions { AllowedDomains = [domain] };

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(RemoteMediaOptions.AllowedDomains), error.ParamName);
    }

    [Fact]
    public void Fetcher_validates_its_options_at_construction()
    {
        Assert.Throws<ArgumentException>(() => new RemoteMediaFetcher(new RemoteMediaOptions { AllowedNetworks = ["nonsense"] }));
    }
}
