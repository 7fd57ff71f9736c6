using System.Globalization;

namespace MmServe.Soak.Memory;

/// <summary>
/// The memory figures the server exports on /metrics (Prometheus text): the .NET runtime's own System.Runtime meter
/// (exported through OpenTelemetry's runtime instrumentation) and MmServe's encoder-cache gauge. Each value is the
/// sum over its series (all GC generations, all served models); null when the server does not export it.
/// </summary>
/// <param name="ManagedHeap">Bytes in the GC heap after the last collection, all generations (LOH and POH included).</param>
/// <param name="GcCommitted">Bytes the GC has committed from the OS: the managed heap plus its free space and bookkeeping.</param>
/// <param name="EncoderCache">Bytes held by the encoder-output cache.</param>
internal sealed record ServerMetrics(long? ManagedHeap, long? GcCommitted, long? EncoderCache)
{
    public const string ManagedHeapName = "dotnet_gc_last_collection_heap_size_bytes";
    public const string GcCommittedName = "dotnet_gc_last_collection_memory_committed_size_bytes";
    public const string EncoderCacheName = "mmserve_encoder_cache_usage_bytes";

    public static async Task<ServerMetrics> ScrapeAsync(HttpClient http, Uri baseUrl, CancellationToken ct)
    {
        string text;
        try
        {
            text = await http.GetStringAsync(new Uri(baseUrl, "metrics"), ct).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return new ServerMetrics(null, null, null);
        }

        return Parse(text);
    }

    public static ServerMetrics Parse(string text)
    {
        long? managed = null, committed = null, cache = null;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            // name{labels} value [timestamp]
            int nameEnd = line.IndexOfAny('{', ' ');
            if (nameEnd <= 0)
            {
                continue;
            }

            var name = line[..nameEnd];
            var rest = line[(line[nameEnd] == '{' ? line.IndexOf('}') + 1 : nameEnd)..].Trim();
            int space = rest.IndexOf(' ');
            var number = space < 0 ? rest : rest[..space];
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            if (name.SequenceEqual(ManagedHeapName))
            {
                managed = (managed ?? 0) + (long)value;
            }
            else if (name.SequenceEqual(GcCommittedName))
            {
                committed = (committed ?? 0) + (long)value;
            }
            else if (name.SequenceEqual(EncoderCacheName))
            {
                cache = (cache ?? 0) + (long)value;
            }
        }

        return new ServerMetrics(managed, committed, cache);
    }
}
