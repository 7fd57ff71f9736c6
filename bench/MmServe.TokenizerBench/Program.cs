// Encode throughput (MB/s of UTF-8 input) of MmServe's tokenizer and of HF's Rust tokenizers (Tokenizers.DotNet)
// on one ~5 MB mixed text (the size of a large prompt part), per tokenizer.json; also the speed of the length-only
// token lower bound (ByteLevelBpeTokenizer.MinimumTokens) the server checks before tokenizing, and the bound itself.
// Usage: dotnet run -c Release --project bench/MmServe.TokenizerBench [-- --mb 5 --runs 5 --only llama3 --cjk]
// --cjk: Chinese/Japanese prose without spaces instead, where a regex piece is a whole clause (no word cache).
using System.Diagnostics;
using System.Text;
using MmServe.Model.Tokenization;
using HfTokenizer = Tokenizers.DotNet.Tokenizer;

var megabytes = ArgValue("--mb", 5);
var runs = ArgValue("--runs", 5);
var onlyIndex = Array.IndexOf(args, "--only");
var only = onlyIndex >= 0 && onlyIndex + 1 < args.Length ? args[onlyIndex + 1] : "";
var root = FindRoot();
var fixtures = Path.Combine(root, "tests", "MmServe.Model.Tests", "Tokenization", "Fixtures");
(string Name, string Path)[] tokenizers =
[
    ("mmserve-tiny", Path.Combine(root, "models", "mmserve-tiny", "tokenizer.json")),
    ("llama3-style", Path.Combine(fixtures, "llama3-style.tokenizer.json")),
    ("qwen2-style", Path.Combine(fixtures, "qwen2-style.tokenizer.json")),
    ("llama2-style (SentencePiece BPE)", Path.Combine(fixtures, "llama2-style.tokenizer.json")),
];

var text = args.Contains("--cjk") ? CjkText(megabytes * 1_000_000) : MixedText(root, megabytes * 1_000_000);
var mb = Encoding.UTF8.GetByteCount(text) / 1e6;
Console.WriteLine($"text: {mb:F2} MB UTF-8, {text.Length:N0} chars; best of {runs} runs, one Encode call each");
Console.WriteLine($"{"tokenizer",-34} {"MmServe MB/s",12} {"HF MB/s",10} {"tokens",10} {"same ids",9} {"bound MB/s",11} {"bound tokens",13}");
foreach (var (name, path) in tokenizers.Where(t => t.Name.Contains(only, StringComparison.Ordinal)))
{
    var ours = ByteLevelBpeTokenizer.Load(path);
    using var hf = new HfTokenizer(path);
    var prefix = hf.Encode("").Length; // what the post-processor adds (BOS)
    var (ourSeconds, ourIds) = Best(() => ours.Encode(text));
    var (hfSeconds, hfIds) = Best(() => hf.Encode(text));
    var same = ourIds.AsSpan().SequenceEqual(hfIds.Skip(prefix).Select(id => (int)id).ToArray());
    // The length-only lower bound the server refuses over-long text with before tokenizing (PromptPreparer).
    var (boundSeconds, bound) = Best(() => ours.MinimumTokens(text));
    Console.WriteLine($"{name,-34} {mb / ourSeconds,12:F1} {mb / hfSeconds,10:F1} {ourIds.Length,10:N0} {same,9} {mb / boundSeconds,11:F0} {bound,13:N0}");
}

(double Seconds, T Result) Best<T>(Func<T> encode)
{
    var best = double.MaxValue;
    // Warm-up twice: JIT up to the optimized tier, regex compilation, the word cache.
    T result = encode();
    result = encode();
    for (var i = 0; i < runs; i++)
    {
        var watch = Stopwatch.StartNew();
        result = encode();
        best = Math.Min(best, watch.Elapsed.TotalSeconds);
    }

    return (best, result);
}

int ArgValue(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MmServe.sln")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? throw new InvalidOperationException("run from inside the MmServe repository");
}

static string CjkText(int targetBytes)
{
    string[] sentences =
    [
        "我们今天去公园散步，天气很好。", "机器学习模型需要大量的数据和计算资源才能训练出好的结果。",
        "東京は日本の首都です。", "ひらがなとカタカナと漢字を使います。", "服务器每秒处理数千个请求",
        "这个分词器必须和参考实现给出完全相同的结果。", "長い文章を一度に送るユーザーもいます。",
    ];
    var random = new Random(1);
    var text = new StringBuilder(targetBytes);
    var bytes = 0;
    while (bytes < targetBytes)
    {
        var s = sentences[random.Next(sentences.Length)];
        text.Append(s);
        bytes += Encoding.UTF8.GetByteCount(s);
        if (random.Next(12) == 0)
        {
            text.Append('\n');
            bytes++;
        }
    }

    return text.ToString();
}

// Prose (the repo's Markdown), code (its C# sources) and a multilingual/emoji sample, interleaved by file and
// repeated up to the target size; deterministic for a given checkout.
static string MixedText(string root, int targetBytes)
{
    const string multilingual =
        "Der schnelle braune Fuchs springt über den faulen Hund. 我们今天去公园散步，天气很好。東京は日本の首都です。" +
        "안녕하세요, 만나서 반갑습니다. Быстрая коричневая лиса. مرحبا بالعالم. नमस्ते दुनिया। 😀 👍🏽 👨‍👩‍👧‍👦 🇩🇪\n";
    var files = Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md")
        .Concat(Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories))
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .Select(File.ReadAllText)
        .ToArray();
    var text = new StringBuilder(targetBytes);
    var bytes = 0;
    for (var i = 0; bytes < targetBytes; i++)
    {
        var part = files[i % files.Length] + multilingual;
        text.Append(part);
        bytes += Encoding.UTF8.GetByteCount(part);
    }

    return text.ToString();
}
