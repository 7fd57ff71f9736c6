using System.Net;
using System.Text.Json;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>Health, model listing and the OpenAPI document.</summary>
public sealed class ServiceEndpointTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("health/live")]
    [InlineData("health/ready")]
    public async Task Health_IsHealthyAfterWarmUp(string path)
    {
        using var response = await server.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Models_ListsTheServedModel()
    {
        using var response = await server.Client.GetAsync("v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var list = await Chat.ReadJsonAsync(response);
        Assert.Equal("list", list.GetProperty("object").GetString());
        var model = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal(Chat.Model, model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal("mmserve", model.GetProperty("owned_by").GetString());
        Assert.True(model.GetProperty("created").GetInt64() > 1_600_000_000);
        var inputs = model.GetProperty("capabilities").GetProperty("input_modalities").EnumerateArray().Select(m => m.GetString()).ToList();
        // The bundle declares image, audio and video; video needs ffmpeg, and without it the card says why.
        var capabilities = model.GetProperty("capabilities");
        if (ToolRequirement.Ffmpeg.Available)
        {
            Assert.Equal(["text", "audio", "image", "video"], inputs);
            Assert.False(capabilities.TryGetProperty("unavailable_inputs", out _));
        }
        else
        {
            Assert.Equal(["text", "audio", "image"], inputs);
            Assert.Contains("ffmpeg", capabilities.GetProperty("unavailable_inputs").GetProperty("video").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Model_ById_ReturnsTheCard()
    {
        using var response = await server.Client.GetAsync($"v1/models/{Chat.Model}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var model = await Chat.ReadJsonAsync(response);
        Assert.Equal(Chat.Model, model.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Model_UnknownId_Is404ModelNotFound()
    {
        using var response = await server.Client.GetAsync("v1/models/gpt-4o");
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.NotFound, "model", "model_not_found");
    }

    [Fact]
    public async Task SwaggerDocument_DocumentsEndpointsWithWorkingExamples()
    {
        using var response = await server.Client.GetAsync("swagger/v1/swagger.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = doc.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/models", out _));
        Assert.True(paths.TryGetProperty("/v1/models/{id}", out _));
        var examples = paths.GetProperty("/v1/chat/completions").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("examples");
        var image = examples.GetProperty("image").GetProperty("value");
        Assert.Contains("data:image/png;base64,iVBORw0KGgo", image.GetRawText(), StringComparison.Ordinal);
        Assert.True(examples.GetProperty("stream").GetProperty("value").GetProperty("stream").GetBoolean());

        // Each example of each JSON endpoint works as it is.
        int tried = 0;
        foreach (var path in paths.EnumerateObject())
        {
            if (!path.Value.TryGetProperty("post", out var post)
                || !post.TryGetProperty("requestBody", out var requestBody)
                || !requestBody.GetProperty("content").TryGetProperty("application/json", out var json)
                || !json.TryGetProperty("examples", out var pathExamples))
            {
                continue;
            }

            foreach (var example in pathExamples.EnumerateObject())
            {
                var body = example.Value.GetProperty("value").GetRawText();
                using var reply = await server.Client.PostAsync(path.Name.TrimStart('/'), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
                Assert.True(reply.StatusCode == HttpStatusCode.OK, $"{path.Name} {example.Name}: {(int)reply.StatusCode} {await reply.Content.ReadAsStringAsync()}");
                tried++;
            }
        }

        Assert.True(tried >= 9, $"only {tried} examples");
        Assert.True(paths.GetProperty("/v1/images/generations").GetProperty("post").GetProperty("requestBody").GetProperty("content")
            .GetProperty("application/json").GetProperty("examples").EnumerateObject().Any());

        // The "image" output modality (an extension) is described in the schema, request and response.
        var schemas = doc.RootElement.GetProperty("components").GetProperty("schemas");
        Assert.Contains("\"image\"", schemas.GetProperty("ChatCompletionRequest").GetProperty("properties").GetProperty("modalities").GetProperty("description").GetString());
        Assert.Contains("generated images", schemas.GetProperty("AssistantMessage").GetProperty("properties").GetProperty("images").GetProperty("description").GetString());

        // The transcription form offers a file upload.
        var form = paths.GetProperty("/v1/audio/transcriptions").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal("binary", form.GetProperty("properties").GetProperty("file").GetProperty("format").GetString());
    }

    [Fact]
    public async Task KeysLimitsAndCors_AreOffByDefault()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.Add("Origin", "https://app.example.com");
        using var response = await server.Client.SendAsync(request);
        using var document = await server.Client.GetAsync("swagger/v1/swagger.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False((await Chat.ReadJsonAsync(document)).GetProperty("components").TryGetProperty("securitySchemes", out _));
    }

    [Fact]
    public async Task SwaggerUi_HasBrowserSecurityHeaders_TheApiOnlyNosniff()
    {
        using var page = await server.Client.GetAsync("swagger/index.html");
        using var api = await server.Client.GetAsync("v1/models");

        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", page.Headers.GetValues("Referrer-Policy").Single());
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal); // no inline or eval'd script
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", api.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(api.Headers.Contains("Content-Security-Policy"));
    }

    [Fact]
    public async Task SwaggerUi_IsServed()
    {
        using var response = await server.Client.GetAsync("swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger-ui", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
