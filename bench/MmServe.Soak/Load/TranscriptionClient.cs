using System.Net.Http.Headers;

namespace MmServe.Soak.Load;

/// <summary>Uploads one file to /v1/audio/transcriptions (json) and checks that a transcript came back.</summary>
internal sealed class TranscriptionClient(HttpClient http, Uri baseUrl)
{
    private readonly Uri _endpoint = new(baseUrl, "v1/audio/transcriptions");

    public async Task<StreamOutcome> SendAsync(byte[] audio, string model, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(audio);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "clip");
        form.Add(new StringContent(model), "model");
        form.Add(new StringContent("json"), "response_format");
        try
        {
            using var response = await http.PostAsync(_endpoint, form, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return StreamOutcome.Failed($"HTTP {(int)response.StatusCode}");
            }

            string body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return body.Contains("\"text\"", StringComparison.Ordinal) ? StreamOutcome.Success : StreamOutcome.Failed("no text in the transcript");
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or IOException or TaskCanceledException)
        {
            return StreamOutcome.Failed(e.GetType().Name);
        }
    }
}
