using System.Net;
using System.Net.Sockets;

namespace MmServe.Media.Tests.Remote;

/// <summary>
/// Stands in for DNS so tests can use invented names (sub.example.com → 127.0.0.1) and count lookups; a lookup is
/// made once per connection attempt, so the count also shows how often the fetcher tried to connect.
/// </summary>
internal sealed class FakeDns(IReadOnlyDictionary<string, IPAddress[]> records)
{
    private int lookups;

    public int Lookups => Volatile.Read(ref lookups);

    public static FakeDns Of(params (string Name, string[] Addresses)[] records) =>
        new(records.ToDictionary(r => r.Name, r => r.Addresses.Select(IPAddress.Parse).ToArray(), StringComparer.OrdinalIgnoreCase));

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref lookups);
        return records.TryGetValue(host, out var addresses)
            ? Task.FromResult(addresses)
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}
