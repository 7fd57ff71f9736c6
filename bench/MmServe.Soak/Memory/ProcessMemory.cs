using System.Globalization;

namespace MmServe.Soak.Memory;

/// <summary>The kernel's view of a process's memory, from /proc/&lt;pid&gt;/status (values there are in kB).</summary>
/// <param name="Rss">Resident set: what the process holds in RAM (VmRSS), what an OOM killer and a pod limit see.</param>
/// <param name="RssAnon">The anonymous part of it: heaps (managed and native), stacks, arenas.</param>
/// <param name="RssFile">The file-backed part: mapped assemblies, native libraries, model files.</param>
/// <param name="Threads">Each thread holds a stack and may hold a malloc arena, so a growing count is growing memory.</param>
internal sealed record ProcessMemory(long Rss, long RssAnon, long RssFile, int Threads)
{
    /// <summary>Null when the process has gone.</summary>
    public static ProcessMemory? Read(int pid)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid}/status");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        long Field(string name)
        {
            var line = lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));
            var kb = line?[(name.Length + 1)..].Trim().Split(' ')[0];
            return kb is null ? 0 : long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }

        var threads = lines.FirstOrDefault(l => l.StartsWith("Threads:", StringComparison.Ordinal))?["Threads:".Length..].Trim();
        return new ProcessMemory(Field("VmRSS"), Field("RssAnon"), Field("RssFile"), threads is null ? 0 : int.Parse(threads, CultureInfo.InvariantCulture));
    }
}
