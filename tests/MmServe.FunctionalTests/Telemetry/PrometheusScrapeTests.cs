using System.Net;
using System.Text.Json;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Telemetry;

/// <summary>
/// A real Prometheus server scrapes a running MmServe while it answers a known mix of requests (text, image,
/// streamed, one refused); its HTTP API must then report exactly those requests, the tokens the responses reported,
/// the refusal by type, and one time-to-first-token observation per answered request; and every query of the Grafana
/// dashboard (deploy/grafana) must run and find data. The model is served under its own id so no other test's
/// traffic can add to the series.
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
        Assert.Equal(4, await prometheus.QueryAsync($"sum(mmserve_request_queue_time_seconds_count{selector})"));
        Assert.Equal(4, await prometheus.QueryAsync($"sum(mmserve_request_prefill_time_seconds_count{selector})"));

        // Component metrics also count the warm-up's sample image: the test's one image makes at least two.
        Assert.True(await prometheus.QueryAsync($"sum(mmserve_media_decode_time_seconds_count{{model=\"{Model}\",modality=\"image\"}})") >= 2);
        Assert.True(await prometheus.QueryAsync($"sum(mmserve_encoder_cache_queries_total{selector})") >= 2);
        Assert.True(await prometheus.QueryAsync($"sum(mmserve_iteration_tokens_sum{selector})") >= prompt + completion - 4);
        Assert.True(await prometheus.QueryAsync($"sum(mmserve_component_batch_size_count{{model=\"{Model}\",component=\"encoder\",modality=\"image\"}})") >= 2);
        Assert.Equal(4, await prometheus.QueryAsync($"sum(gen_ai_server_time_to_first_token_seconds_count{{gen_ai_request_model=\"{Model}\"}})"));
        Assert.Equal(prompt, await prometheus.QueryAsync(
            $"sum(gen_ai_client_token_usage_sum{{gen_ai_request_model=\"{Model}\",gen_ai_token_type=\"input\"}})"));
        Assert.Equal(1, await prometheus.QueryAsync(
            $"sum(gen_ai_server_request_duration_seconds_count{{gen_ai_request_model=\"{Model}\",error_type=\"invalid_request\"}})"));

        // One inter-token observation per generated token after each response's first (the engine timestamps every token).
        Assert.Equal(completion - 4, await prometheus.QueryAsync($"sum(mmserve_inter_token_latency_seconds_count{selector})"));
        Assert.Equal(0, await prometheus.QueryAsync($"sum(mmserve_num_requests_running{selector})"));

        // The scrapes themselves and the health probes are not request metrics.
        Assert.Equal(0, (await prometheus.EvaluateAsync("http_server_request_duration_seconds_count{http_route=~\"/metrics|/health.*\"}")).Series);
        Assert.True((await prometheus.EvaluateAsync("http_server_request_duration_seconds_count{http_route=\"/v1/chat/completions\"}")).Series > 0);

        // Every query of the Grafana dashboard (deploy/grafana) is valid PromQL over these series and finds this model's data.
        foreach (var (title, expr) in DashboardQueries())
        {
            var query = expr.Replace("$model", Model, StringComparison.Ordinal).Replace("$__rate_interval", "1m", StringComparison.Ordinal);
            // rate() needs two scrapes of a series: a new series may take a second or two to show.
            var (status, series, body) = await prometheus.EvaluateAsync(query);
            for (int i = 0; i < 80 && status == "success" && series == 0; i++)
            {
                await Task.Delay(250);
                (status, series, body) = await prometheus.EvaluateAsync(query);
            }

            Assert.True(status == "success", $"{title}: {query} → {body}");
            Assert.True(series > 0, $"{title}: {query} found no series");
        }
    }

    private static IEnumerable<(string Title, string Expr)> DashboardQueries()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "deploy", "grafana", "mmserve-dashboard.json")));
        var queries = new List<(string, string)>();
        foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                queries.Add((panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!));
            }
        }

        Assert.True(queries.Count >= 10, $"{queries.Count} dashboard queries");
        return queries;
    }

    private static System.Text.Json.Nodes.JsonObject WithModel(System.Text.Json.Nodes.JsonObject body)
    {
        body["model"] = Model;
        return body;
    }
}
