using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MmServe.TestSupport.Server;

/// <summary>Builds chat requests as raw JSON and sends them, so tests control every byte on the wire.</summary>
public static class Chat
{
    public const string Model = "mmserve-tiny";
    public const string Route = "v1/chat/completions";

    public static JsonObject Request(string userText, int maxTokens = 8) => new()
    {
        ["model"] = Model,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = userText }),
        ["temperature"] = 0,
        ["max_tokens"] = maxTokens,
    };

    public static JsonObject WithImages(string text, params string[] dataUrls)
    {
        var content = new JsonArray();
        foreach (var url in dataUrls)
        {
            content.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } });
        }

        content.Add(new JsonObject { ["type"] = "text", ["text"] = text });
        return new JsonObject
        {
            ["model"] = Model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
            ["temperature"] = 0,
            ["max_tokens"] = 4,
        };
    }

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, JsonNode body, CancellationToken ct = default) =>
        PostRawAsync(client, body.ToJsonString(), ct);

    public static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string json, CancellationToken ct = default) =>
        client.PostAsync(Route, new StringContent(json, Encoding.UTF8, "application/json"), ct);

    /// <summary>Sends a streaming request and returns as soon as the headers are in.</summary>
    public static Task<HttpResponseMessage> PostStreamingAsync(HttpClient client, JsonNode body, CancellationToken ct = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Route)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }

    /// <summary>Reads a whole SSE body: the data of each event, in order (the last one is "[DONE]" when complete).</summary>
    public static async Task<List<string>> ReadEventsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\n\n", body);
        var events = new List<string>();
        foreach (var block in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data: ", block);
            events.Add(block["data: ".Length..]);
        }

        return events;
    }

    public static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];
}
