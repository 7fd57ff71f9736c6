using System.Net;
using System.Text.Json;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Telemetry;

/// <summary>
/// A real Prometheus server scrapes a running MmServe while it answers a known mix of requests (text, image,
/// streamed, one refused); its HTTP API must then report exactly those requests, the tokens the responses reported,
/// the refusal by type, and one time-to-first-token observation per answered request. The model is served under its
/// own id so no other test's traffic can add to the series.
/// </summary>
public sealed class PrometheusScrapeTests
{
    private const string Model = "prom-tiny";

    [PrometheusFact]
    public async Task Prometheus_CountsWhatTheServerAnswered()
    {
        await using var factory = new MmServeFactory(new Dictionary<string, string?> { ["Model:Id"] = Model });
        await factory.StartAndWaitReadyAsync();
        using var client = factory.CreateHttpClient();
        await using var prometheus = await PrometheusServer.StartAsync($"{factory.BaseAddress.Host}:{factory.BaseAddress.Port}");

        int prompt = 0, completion = 0;
        foreach (var body in new[]
                 {
                     WithModel(Chat.Request("Count from one to five.", 16)),
                     WithModel(Chat.Request("Who are you?", 16)),
                     WithModel(Chat.WithImages("What colour is the shape?", TestImages.DataUrl(TestImages.SolidPng(32, 32, 255, 0, 0)))),
                 })
        {
            using var response = await Chat.PostAsync(client, body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var usage = (await Chat.ReadJsonAsync(response)).GetProperty("usage");
            prompt += usage.GetProperty("prompt_tokens").GetInt32();
            completion += usage.GetProperty("completion_tokens").GetInt32();
        }

        var streamed = WithModel(Chat.Request("Who are you?", 16));
        streamed["stream"] = true;
        streamed["stream_options"] = new System.Text.Json.Nodes.JsonObject { ["include_usage"] = true };
        using (var response = await Chat.PostStreamingAsync(client, streamed))
        {
            var events = await Chat.ReadEventsAsync(response);
            using var usageChunk = JsonDocument.Parse(events[^2]);
            var usage = usageChunk.RootElement.GetProperty("usage");
            prompt += usage.GetProperty("prompt_tokens").GetInt32();
            completion += usage.GetProperty("completion_tokens").GetInt32();
        }

        var refused = WithModel(Chat.Request("Hello"));
        refused["temperature"] = 9;
        using (var response = await Chat.PostAsync(client, refused))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        var selector = $"{{model=\"{Model}\"}}";
        Assert.Equal(4, await prometheus.WaitForAsync($"sum(mmserve_request_success_total{selector})", 4, TimeSpan.FromSeconds(30)));
        Assert.Equal(completion, await prometheus.WaitForAsync($"sum(mmserve_generation_tokens_total{selector})", completion, TimeSpan.FromSeconds(10)));
        Assert.Equal(prompt, await prometheus.QueryAsync($"sum(mmserve_prompt_tokens_total{selector})"));
        Assert.Equal(1, await prometheus.QueryAsync($"sum(mmserve_request_errors_total{{model=\"{Model}\",error_type=\"invalid_request\",code=\"invalid_value\"}})"));
        Assert.Equal(4, await prometheus.QueryAsync($"sum(mmserve_time_to_first_token_seconds_count{selector})"));
        Assert.Equal(4, await prometheus.QueryAsync($"sum(gen_ai_server_time_to_first_token_seconds_count{{gen_ai_request_model=\"{Model}\"}})"));
        Assert.Equal(prompt, await prometheus.QueryAsync(
            $"sum(gen_ai_client_token_usage_sum{{gen_ai_request_model=\"{Model}\",gen_ai_token_type=\"input\"}})"));
        Assert.Equal(1, await prometheus.QueryAsync(
            $"sum(gen_ai_server_request_duration_seconds_count{{gen_ai_request_model=\"{Model}\",error_type=\"invalid_request\"}})"));

        // One inter-token observation per generated token after each response's first delta: at least one, at most all but the first tokens.
        var itl = await prometheus.QueryAsync($"sum(mmserve_inter_token_latency_seconds_count{selector})");
        Assert.InRange(itl ?? 0, 1, completion - 4);
        Assert.Equal(0, await prometheus.QueryAsync($"sum(mmserve_num_requests_running{selector})"));
    }

    private static System.Text.Json.Nodes.JsonObject WithModel(System.Text.Json.Nodes.JsonObject body)
    {
        body["model"] = Model;
        return body;
    }
}
