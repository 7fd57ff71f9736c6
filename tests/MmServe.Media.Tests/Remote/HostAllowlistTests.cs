using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

public sealed class HostAllowlistTests
{
    [Theory]
    [InlineData("*.example.com", "https://sub.example.com/a.png", true)]
    [InlineData("*.example.com", "https://a.b.example.com/a.png", true)]
    [InlineData("*.example.com", "https://SUB.Example.COM./a.png", true)]
    [InlineData("*.example.com", "https://example.com/a.png", false)] // the wildcard names subdomains only
    [InlineData("*.example.com", "https://example.com.evil.net/a.png", false)]
    [InlineData("*.example.com", "https://badexample.com/a.png", false)]
    [InlineData("*.example.com", "https://sub.example.com.evil.net/a.png", false)]
    [InlineData("example.com", "https://example.com:8443/a.png", true)]
    [InlineData("example.com", "https://EXAMPLE.com./a.png", true)]
    [InlineData("example.com", "https://sub.example.com/a.png", false)]
    [InlineData("example.com", "https://example.co/a.png", false)]
    [InlineData("bücher.example", "https://xn--bcher-kva.example/a.png", true)]
    [InlineData("xn--bcher-kva.example", "https://bücher.example/a.png", true)]
    [InlineData("127.0.0.1", "http://2130706433/", true)] // System.Uri canonicalises the numeric form first
    [InlineData("127.0.0.1", "http://127.0.0.2/", false)]
    [InlineData("::ffff:127.0.0.1", "http://[::ffff:127.0.0.1]/", true)]
    [InlineData("[::1]", "http://[::1]:8080/", true)]
    [InlineData("*.0.1.example", "http://127.0.0.1/", false)]
    public void Matches_hosts_in_canonical_form(string entry, string url, bool expected)
    {
        var allowlist = new HostAllowlist([entry]);

        Assert.Equal(expected, allowlist.IsAllowed(new Uri(url)));
    }

    [Fact]
    public void An_empty_list_allows_nothing()
    {
        var allowlist = new HostAllowlist([]);

        Assert.False(allowlist.IsAllowed(new Uri("https://example.com/")));
        Assert.False(allowlist.IsAllowed(new Uri("http://127.0.0.1/")));
    }
}
