using System.Text;
using System.Text.RegularExpressions;

namespace MmServe.DeployTests.Docker;

/// <summary>
/// The build context `docker build .` sends: the repository filtered by .dockerignore, with Docker's rules: patterns
/// are paths relative to the context root with *, ? and ** globs; a pattern that matches a folder excludes everything
/// in it; a later `!pattern` re-includes; the last matching line wins.
/// </summary>
internal sealed class DockerContext
{
    private readonly List<(Regex Pattern, bool Exclude, string Text)> _rules;

    private DockerContext(List<(Regex, bool, string)> rules) => _rules = rules;

    public static DockerContext Load(string dockerignorePath)
    {
        var rules = new List<(Regex, bool, string)>();
        foreach (var raw in File.ReadAllLines(dockerignorePath))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            bool exclude = !line.StartsWith('!');
            var pattern = (exclude ? line : line[1..]).Trim().Trim('/');
            rules.Add((new Regex("^" + GlobToRegex(pattern) + "$", RegexOptions.CultureInvariant), exclude, line));
        }

        return new DockerContext(rules);
    }

    /// <summary>Whether the file or folder at <paramref name="relativePath"/> ('/'-separated) stays out of the context.</summary>
    public bool IsExcluded(string relativePath)
    {
        var parts = relativePath.Replace('\\', '/').Trim('/').Split('/');
        bool excluded = false;
        foreach (var (pattern, exclude, _) in _rules)
        {
            // The pattern matches the path itself or any folder above it.
            for (int n = 1; n <= parts.Length; n++)
            {
                if (pattern.IsMatch(string.Join('/', parts.Take(n))))
                {
                    excluded = exclude;
                    break;
                }
            }
        }

        return excluded;
    }

    /// <summary>Copies the context of <paramref name="root"/> into <paramref name="target"/>; returns the files copied.</summary>
    public int CopyTo(string root, string target)
    {
        bool anyInclude = _rules.Any(r => !r.Exclude);
        int copied = 0;
        var pending = new Stack<string>([root]);
        while (pending.TryPop(out var directory))
        {
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                var relative = Path.GetRelativePath(root, entry.FullName).Replace('\\', '/');
                if (entry is DirectoryInfo folder)
                {
                    // Without `!` rules, nothing under an excluded folder can come back: skip it whole (bin, obj, .git).
                    if (!anyInclude && IsExcluded(relative))
                    {
                        continue;
                    }

                    if (folder.LinkTarget is null)
                    {
                        pending.Push(folder.FullName);
                    }
                }
                else if (!IsExcluded(relative))
                {
                    var destination = Path.Combine(target, relative);
                    Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                    File.Copy(entry.FullName, destination);
                    copied++;
                }
            }
        }

        return copied;
    }

    private static string GlobToRegex(string glob)
    {
        var regex = new StringBuilder();
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                // "**/" matches any number of folders, including none; a trailing "**" anything.
                if (i + 2 < glob.Length && glob[i + 2] == '/')
                {
                    regex.Append("(?:.*/)?");
                    i += 2;
                }
                else
                {
                    regex.Append(".*");
                    i++;
                }
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }

        return regex.ToString();
    }
}
