using System.Text;
using System.Text.Json;

namespace MmServe.DeployTests.Docker;

/// <summary>One instruction: its keyword (upper case), its arguments with continuation lines joined, its first line.</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments, int Line);

/// <summary>A build stage: FROM image-or-stage [AS name].</summary>
internal sealed record DockerStage(string Name, string From, int Index, IReadOnlyList<DockerInstruction> Instructions);

/// <summary>A COPY: --from stage or image (null for the build context), sources, destination.</summary>
internal sealed record DockerCopy(string? From, IReadOnlyList<string> Sources, string Destination);

/// <summary>
/// The part of the Dockerfile language this repository's Dockerfile uses, read the way BuildKit reads it: stages,
/// their parents, ENV, WORKDIR, COPY, RUN, USER, EXPOSE, HEALTHCHECK and ENTRYPOINT. Enough to run what the file runs.
/// </summary>
internal sealed class DockerfileModel
{
    private DockerfileModel(IReadOnlyList<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    public static DockerfileModel Load(string path) => Parse(File.ReadAllText(path));

    public static DockerfileModel Parse(string text)
    {
        var stages = new List<DockerStage>();
        List<DockerInstruction>? current = null;
        string? name = null, from = null;
        foreach (var instruction in Instructions(text))
        {
            if (instruction.Keyword == "FROM")
            {
                if (current is not null)
                {
                    stages.Add(new DockerStage(name!, from!, stages.Count, current));
                }

                var tokens = ShellWords(instruction.Arguments).Where(t => !t.StartsWith("--", StringComparison.Ordinal)).ToList();
                from = tokens[0];
                name = tokens.Count >= 3 && tokens[1].Equals("AS", StringComparison.OrdinalIgnoreCase)
                    ? tokens[2]
                    : stages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                current = [];
            }
            else
            {
                Assert.True(current is not null, $"line {instruction.Line}: {instruction.Keyword} before any FROM");
                current.Add(instruction);
            }
        }

        if (current is not null)
        {
            stages.Add(new DockerStage(name!, from!, stages.Count, current));
        }

        return new DockerfileModel(stages);
    }

    public DockerStage Stage(string name) =>
        Stages.SingleOrDefault(s => s.Name == name) ?? throw new InvalidOperationException($"the Dockerfile has no stage '{name}'");

    public bool IsStage(string reference, int before) => Stages.Any(s => s.Name == reference && s.Index < before);

    /// <summary>The stage's ancestry, outermost first, ending with the stage itself.</summary>
    public IReadOnlyList<DockerStage> Chain(DockerStage stage)
    {
        var chain = new List<DockerStage> { stage };
        while (Stages.FirstOrDefault(s => s.Name == chain[0].From && s.Index < chain[0].Index) is { } parent)
        {
            chain.Insert(0, parent);
        }

        return chain;
    }

    /// <summary>The registry image the stage is built on (the root of its chain).</summary>
    public string BaseImage(DockerStage stage) => Chain(stage)[0].From;

    /// <summary>Every image pulled from a registry: FROM roots and COPY --from references that are not stages.</summary>
    public IEnumerable<string> ExternalImages() =>
        Stages.Where(s => !IsStage(s.From, s.Index)).Select(s => s.From)
            .Concat(Stages.SelectMany(s => Copies(s, inherited: false).Where(c => c.From is not null && !IsStage(c.From, s.Index)).Select(c => c.From!)))
            .Distinct();

    public IEnumerable<DockerInstruction> All(DockerStage stage, string keyword) =>
        Chain(stage).SelectMany(s => s.Instructions).Where(i => i.Keyword == keyword);

    /// <summary>ENV as the stage's containers see it (parents' first, later values win).</summary>
    public IReadOnlyDictionary<string, string> Env(DockerStage stage)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var instruction in All(stage, "ENV"))
        {
            var words = ShellWords(instruction.Arguments);
            if (words.Count > 0 && !words[0].Contains('=', StringComparison.Ordinal))
            {
                env[words[0]] = string.Join(' ', words.Skip(1));
                continue;
            }

            foreach (var word in words)
            {
                var eq = word.IndexOf('=', StringComparison.Ordinal);
                env[word[..eq]] = word[(eq + 1)..];
            }
        }

        return env;
    }

    public string Workdir(DockerStage stage) => All(stage, "WORKDIR").LastOrDefault()?.Arguments ?? "/";

    public string? User(DockerStage stage) => All(stage, "USER").LastOrDefault()?.Arguments;

    public IReadOnlyList<int> ExposedPorts(DockerStage stage) =>
        [.. All(stage, "EXPOSE").SelectMany(i => ShellWords(i.Arguments)).Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture))];

    public IReadOnlyList<string> Entrypoint(DockerStage stage)
    {
        var entrypoint = All(stage, "ENTRYPOINT").LastOrDefault() ?? throw new InvalidOperationException($"stage {stage.Name} has no ENTRYPOINT");
        return JsonSerializer.Deserialize<string[]>(entrypoint.Arguments)
            ?? throw new InvalidOperationException($"line {entrypoint.Line}: ENTRYPOINT must be an exec-form JSON array");
    }

    /// <summary>The HEALTHCHECK's options (--interval=10s...) and its command (shell form: the string /bin/sh -c runs).</summary>
    public (IReadOnlyDictionary<string, string> Options, string ShellCommand)? Healthcheck(DockerStage stage)
    {
        if (All(stage, "HEALTHCHECK").LastOrDefault() is not { } instruction)
        {
            return null;
        }

        var args = instruction.Arguments;
        var cmd = args.IndexOf(" CMD ", StringComparison.Ordinal);
        Assert.True(cmd >= 0 || args.StartsWith("CMD ", StringComparison.Ordinal), $"line {instruction.Line}: HEALTHCHECK without CMD");
        var optionsText = cmd >= 0 ? args[..cmd] : "";
        var command = (cmd >= 0 ? args[(cmd + 5)..] : args[4..]).Trim();
        var options = ShellWords(optionsText).ToDictionary(o => o.Split('=')[0], o => o.Contains('=', StringComparison.Ordinal) ? o[(o.IndexOf('=', StringComparison.Ordinal) + 1)..] : "");
        Assert.False(command.StartsWith('['), $"line {instruction.Line}: the HEALTHCHECK command is expected in shell form");
        return (options, command);
    }

    public IEnumerable<DockerCopy> Copies(DockerStage stage, bool inherited = true)
    {
        foreach (var instruction in inherited ? All(stage, "COPY") : stage.Instructions.Where(i => i.Keyword == "COPY"))
        {
            var words = ShellWords(instruction.Arguments);
            var from = words.FirstOrDefault(w => w.StartsWith("--from=", StringComparison.Ordinal))?["--from=".Length..];
            var paths = words.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
            yield return new DockerCopy(from, paths[..^1], paths[^1]);
        }
    }

    /// <summary>The arguments after `dotnet` of every `dotnet publish` the stage's RUN lines run (with its parents').</summary>
    public IReadOnlyList<IReadOnlyList<string>> PublishCommands(DockerStage stage) =>
        [.. All(stage, "RUN").SelectMany(run => Commands(run.Arguments))
            .Where(c => c.Count > 1 && c[0] == "dotnet" && c[1] == "publish")
            .Select(c => (IReadOnlyList<string>)c.Skip(1).ToList())];

    /// <summary>A RUN line's shell commands (split at &amp;&amp;, ; and ||), BuildKit's --mount/--network flags dropped.</summary>
    private static IEnumerable<List<string>> Commands(string run)
    {
        var words = ShellWords(run).SkipWhile(w => w.StartsWith("--", StringComparison.Ordinal)).ToList();
        var command = new List<string>();
        foreach (var word in words)
        {
            if (word is "&&" or ";" or "||")
            {
                yield return command;
                command = [];
            }
            else
            {
                command.Add(word);
            }
        }

        yield return command;
    }

    /// <summary>Whitespace-separated words with single and double quotes removed (no variable expansion).</summary>
    public static List<string> ShellWords(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (var c in text)
        {
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else
                {
                    word.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    /// <summary>Instructions with comments dropped and backslash continuations joined (comment lines inside too).</summary>
    private static IEnumerable<DockerInstruction> Instructions(string text)
    {
        var lines = text.Split('\n');
        var pending = new StringBuilder();
        int start = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith('#') || (pending.Length == 0 && trimmed.Length == 0))
            {
                continue;
            }

            if (pending.Length == 0)
            {
                start = i + 1;
            }

            var continued = trimmed.EndsWith('\\');
            pending.Append(continued ? trimmed[..^1] : trimmed).Append(' ');
            if (!continued)
            {
                var instruction = pending.ToString().Trim();
                pending.Clear();
                var space = instruction.IndexOfAny([' ', '\t']);
                yield return space < 0
                    ? new DockerInstruction(instruction.ToUpperInvariant(), "", start)
                    : new DockerInstruction(instruction[..space].ToUpperInvariant(), instruction[(space + 1)..].Trim(), start);
            }
        }
    }
}
