using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntimeGenAI;
using MmServe.Bench.Workload;

namespace MmServe.PeerBench.Workload;

/// <summary>
/// The workloads, drawn from a fixed seed: "mixed" (prompts of 2–40 words, output lengths drawn per request uniformly
/// from 8 to 192 tokens, capped by the context), "longtail" (the same prompts, output lengths log-uniform over 8–192:
/// many short answers and a few long ones, the shape of chat traces such as vLLM's ShareGPT set) and "uniform" (one
/// prompt length, one output length: static batching's
/// best case). Prompt ids come from ORT GenAI's own tokenizer and chat template, outside the timed runs.
/// </summary>
internal static class WorkloadBuilder
{
    private static readonly string[] Words = ["river", "green", "forest", "silver", "candle", "stone", "ocean", "cloud", "train", "garden", "house", "yellow", "music", "orange"];

    public static IReadOnlyList<PeerRequest> Build(string workload, int count, int contextLength, int uniformOutput, int seed, Tokenizer tokenizer)
    {
        var rng = new Random(seed);
        var requests = new List<PeerRequest>(count);
        for (int i = 0; i < count; i++)
        {
            bool uniform = workload == "uniform";
            int words = uniform ? 10 : rng.Next(2, 41);
            var text = new StringBuilder("Repeat after me:");
            for (int w = 0; w < words; w++)
            {
                text.Append(' ').Append(Words[rng.Next(Words.Length)]);
            }

            var user = text.ToString();
            var messages = JsonSerializer.Serialize(new[] { new { role = "user", content = user } });
            var prompt = tokenizer.ApplyChatTemplate(null, messages, null, true);
            using var ids = tokenizer.Encode(prompt);
            int promptTokens = ids[0].Length;
            int room = contextLength - promptTokens;
            int drawn = workload switch
            {
                "uniform" => uniformOutput,
                "longtail" => (int)Math.Round(8 * Math.Pow(192.0 / 8, rng.NextDouble())),
                _ => rng.Next(8, 193),
            };
            int output = Math.Min(drawn, room);
            requests.Add(new PeerRequest(i, user, prompt, promptTokens, output));
        }

        return requests;
    }

    /// <summary>The streaming chat request MmServe gets for <paramref name="request"/> (greedy, EOS ignored, token ids on).</summary>
    public static BenchRequest ToHttp(PeerRequest request, string model)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteStartArray("messages");
            w.WriteStartObject();
            w.WriteString("role", "user");
            w.WriteString("content", request.UserText);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteNumber("max_tokens", request.OutputTokens);
            w.WriteNumber("temperature", 0);
            w.WriteBoolean("ignore_eos", true);
            w.WriteBoolean("return_token_ids", true);
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return new BenchRequest(request.Index, false, request.UserText, buffer.ToArray());
    }
}
