using System.Diagnostics;
using System.Text.Json;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>
/// A client that is not .NET — Node's @grpc/grpc-js, with the messages loaded from protos/ by @grpc/proto-loader —
/// lists the models and streams a chat with an image sent as raw bytes, and gets the golden answer.
/// </summary>
public sealed class NodeClientTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>
{
    [NodeFact]
    public async Task NodeClient_ListsModelsAndStreamsAnImageChat()
    {
        Assert.True(NodeClient.NodePath is not null, "node is not on PATH");
        Assert.True(NodeClient.PackagesInstalled, $"run `npm ci` in {NodeClient.ClientDirectory}");
        var (golden, imagePath, question) = ImageCaptionCase();

        var address = $"{server.Factory.GrpcAddress.Host}:{server.Factory.GrpcAddress.Port}";
        var (exitCode, stdout, stderr) = await RunNodeAsync("client.js", address, imagePath, question, golden.MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(exitCode == 0, $"node exited with {exitCode}: {stderr}");

        using var output = JsonDocument.Parse(stdout);
        var root = output.RootElement;
        var model = Assert.Single(root.GetProperty("models").EnumerateArray());
        Assert.Equal(Chat.Model, model.GetProperty("id").GetString());
        Assert.Contains("MODALITY_IMAGE", model.GetProperty("input_modalities").EnumerateArray().Select(m => m.GetString()));

        var events = root.GetProperty("events").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal("started", events[0]);
        Assert.Equal("finished", events[^1]);
        Assert.Equal(golden.CompletionText, root.GetProperty("text").GetString());
        Assert.Equal(golden.CompletionTokenIds, root.GetProperty("token_ids").EnumerateArray().Select(t => t.GetInt32()));
        Assert.Equal(golden.FinishReason == "length" ? "FINISH_REASON_LENGTH" : "FINISH_REASON_STOP", root.GetProperty("finish_reason").GetString());
        Assert.Equal(golden.CompletionTokenIds.Length, root.GetProperty("completion_tokens").GetInt32());
    }

    /// <summary>The first image-captioning golden case: its image file (cases.json names it) and its question.</summary>
    private static (GoldenCase Golden, string ImagePath, string Question) ImageCaptionCase()
    {
        var golden = GoldenCases.ImageCaption;
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Golden, "cases.json")));
        var raw = doc.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("id").GetString() == golden.Id);
        var parts = Assert.Single(raw.GetProperty("messages").EnumerateArray()).GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(2, parts.Count);
        var image = parts.Single(p => p.GetProperty("type").GetString() == "image_url").GetProperty("image_url").GetProperty("url").GetString()!;
        var question = parts.Single(p => p.GetProperty("type").GetString() == "text").GetProperty("text").GetString()!;
        return (golden, Path.Combine(TestPaths.Golden, image), question);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunNodeAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(NodeClient.NodePath!)
        {
            WorkingDirectory = NodeClient.ClientDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("node client.js did not finish within 90 s");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
