namespace MmServe.Media.Tests.Remote;

/// <summary>
/// The URL policy relies on System.Uri turning every numeric spelling of an IPv4 address into a dotted quad
/// (HostNameType IPv4) before the host is compared or checked. These pin that behaviour down.
/// </summary>
public sealed class UriHostNormalizationTests
{
    [Theory]
    [InlineData("http://2130706433/", "127.0.0.1")]
    [InlineData("http://0x7f.1/", "127.0.0.1")]
    [InlineData("http://0x7f000001/", "127.0.0.1")]
    [InlineData("http://017700000001/", "127.0.0.1")]
    [InlineData("http://0177.0.0.1/", "127.0.0.1")]
    [InlineData("http://127.1/", "127.0.0.1")]
    [InlineData("http://0.0.0.0/", "0.0.0.0")]
    [InlineData("http://0/", "0.0.0.0")]
    [InlineData("http://2852039166/", "169.254.169.254")]
    public void Numeric_ipv4_forms_become_dotted_quads(string url, string expectedHost)
    {
        var uri = new Uri(url);

        Assert.Equal(UriHostNameType.IPv4, uri.HostNameType);
        Assert.Equal(expectedHost, uri.Host);
    }

    [Theory]
    [InlineData("http://[::ffff:127.0.0.1]/", "[::ffff:127.0.0.1]")]
    [InlineData("http://[::ffff:7f00:1]/", "[::ffff:127.0.0.1]")]
    [InlineData("http://[0:0:0:0:0:0:0:1]/", "[::1]")]
    public void Ipv6_literals_are_recognised(string url, string expectedHost)
    {
        var uri = new Uri(url);

        Assert.Equal(UriHostNameType.IPv6, uri.HostNameType);
        Assert.Equal(expectedHost, uri.Host);
    }
}
