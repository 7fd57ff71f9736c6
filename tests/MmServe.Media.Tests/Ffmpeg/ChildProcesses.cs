namespace MmServe.Media.Tests.Ffmpeg;

/// <summary>Finds ffmpeg/ffprobe processes whose parent is this test process (Linux /proc), zombies included.</summary>
internal static class ChildProcesses
{
    public static IReadOnlyList<string> Ffmpeg()
    {
        var found = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // exited while we looked
            }

            // "pid (comm) state ppid …"; comm may itself contain spaces or parentheses.
            int open = stat.IndexOf('(');
            int close = stat.LastIndexOf(')');
            if (open < 0 || close < open || close + 2 > stat.Length)
            {
                continue;
            }

            string name = stat[(open + 1)..close];
            var fields = stat[(close + 2)..].Split(' ');
            if (fields.Length > 1 && int.TryParse(fields[1], out int parent) && parent == Environment.ProcessId
                && name is "ffmpeg" or "ffprobe")
            {
                found.Add($"{pid} {name} state {fields[0]}");
            }
        }

        return found;
    }

    public static void AssertNoneLeft() => Assert.Empty(Ffmpeg());
}
