using MmServe.Media.Remote;

namespace MmServe.Media.Tests.Remote;

/// <summary>The up-front checks on their own, without the connect-time check that backs them up.</summary>
public sealed class RemoteUrlPolicyTests
{
    private static RemoteUrlPolicy Policy(RemoteMediaOptions options) =>
        new(options, new HostAllowlist(options.AllowedDomains), new AddressPolicy(options.AllowedNetworks));

    [Theory]
    [InlineData("http://127.0.0.1/a.png", "127.0.0.1")]
    [InlineData("http://2130706433/a.png", "127.0.0.1")]
    [InlineData("http://0x7f.1/a.png", "127.0.0.1")]
    [InlineData("http://0.0.0.0/a.png", "0.0.0.0")]
    [InlineData("http://169.254.169.254/a.png", "169.254.169.254")]
    [InlineData("http://[::ffff:127.0.0.1]/a.png", "::ffff:127.0.0.1")]
    [InlineData("http://[::ffff:a9fe:a9fe]/a.png", "::ffff:169.254.169.254")]
    [InlineData("http://[fe80::1%25eth0]/a.png", "fe80::1")]
    public void Blocked_ip_literals_are_refused_before_any_connection(string url, string allowedHost)
    {
        var policy = Policy(new RemoteMediaOptions { Enabled = true, AllowHttp = true, AllowedDomains = [allowedHost] });

        var error = policy.Check(new Uri(url), isRedirect: false);

        Assert.Equal(RemoteMediaErrors.ForbiddenCode, error?.Code);
        Assert.Contains("reserved address", error!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://media.example.com/a.png", null)]
    [InlineData("https://8.8.8.8/a.png", null)]
    [InlineData("http://media.example.com/a.png", "only https")]
    [InlineData("https://user@media.example.com/a.png", "credentials")]
    [InlineData("https://other.example.org/a.png", "allowed domains")]
    public void Checks_scheme_credentials_and_domain(string url, string? expectedReason)
    {
        var policy = Policy(new RemoteMediaOptions { Enabled = true, AllowedDomains = ["media.example.com", "8.8.8.8"] });

        var error = policy.Check(new Uri(url), isRedirect: false);

        if (expectedReason is null)
        {
            Assert.Null(error);
        }
        else
        {
            Assert.Contains(expectedReason, error?.Message, StringComparison.Ordinal);
        }
    }
}
