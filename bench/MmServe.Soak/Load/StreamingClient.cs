using System.Net.Http.Headers;

namespace MmServe.Soak.Load;

/// <summary>Posts one streaming chat completion and reads it to the end, checking only that it ended properly.</summary>
internal sealed class StreamingClient(HttpClient http, Uri baseUrl)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly Uri _endpoint = new(baseUrl, "v1/chat/completions");

    public async Task<StreamOutcome> SendAsync(byte[] body, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
        };
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return StreamOutcome.Failed($"HTTP {(int)response.StatusCode}");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            using var reader = new StreamReader(stream);
            bool finished = false;
            while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (line == "data: [DONE]")
                {
                    return finished ? StreamOutcome.Success : StreamOutcome.Failed("[DONE] without a finish_reason");
                }

                if (line.StartsWith("data: {\"error\"", StringComparison.Ordinal))
                {
                    return StreamOutcome.Failed("error event");
                }

                finished |= line.Contains("\"finish_reason\":\"", StringComparison.Ordinal);
            }

            return StreamOutcome.Failed("stream ended without [DONE]");
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or IOException or TaskCanceledException)
        {
            return StreamOutcome.Failed(e.GetType().Name);
        }
    }
}
