using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using MmServe.Api.OpenAi.ChatCompletions;
using MmServe.Serving;
using MmServe.Serving.Models;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace MmServe.Api.Swagger;

/// <summary>Request examples for POST /v1/chat/completions that work as they are in Swagger UI's "Try it out".</summary>
internal sealed class ChatCompletionExamplesFilter(ModelRegistry models) : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (!string.Equals("/" + context.ApiDescription.RelativePath, ChatCompletionsEndpoint.Route, StringComparison.Ordinal)
            || operation.RequestBody?.Content is not { } content
            || !content.TryGetValue("application/json", out var json))
        {
            return;
        }

        json.Examples ??= new Dictionary<string, IOpenApiExample>();
        json.Examples["text"] = Example("A text question, greedy decoding", new JsonObject
        {
            ["model"] = models.Default.Id,
            ["messages"] = new JsonArray(Message("user", "What number comes after three?")),
            ["temperature"] = 0,
            ["max_tokens"] = 32,
        });
        json.Examples["image"] = Example("An inline 16x16 red PNG (base64 data: URL) and a question about it", new JsonObject
        {
            ["model"] = models.Default.Id,
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "image_url",
                        ["image_url"] = new JsonObject { ["url"] = SampleImage.RedSquareDataUrl, ["detail"] = "auto" },
                    },
                    new JsonObject { ["type"] = "text", ["text"] = "Describe this image briefly." }),
            }),
            ["temperature"] = 0,
            ["max_tokens"] = 32,
        });
        json.Examples["audio"] = Example("An inline WAV clip (OpenAI's input_audio part, base64) and a question about it", new JsonObject
        {
            ["model"] = models.Default.Id,
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "input_audio",
                        ["input_audio"] = new JsonObject { ["data"] = SampleAudio.TwoBeepsWavBase64, ["format"] = "wav" },
                    },
                    new JsonObject { ["type"] = "text", ["text"] = "How many beeps do you hear?" }),
            }),
            ["temperature"] = 0,
            ["max_tokens"] = 16,
        });
        json.Examples["stream"] = Example("Streaming (server-sent events) with a final usage chunk", new JsonObject
        {
            ["model"] = models.Default.Id,
            ["messages"] = new JsonArray(
                Message("system", "You are a helpful assistant."),
                Message("user", "Count from one to five.")),
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
            ["max_tokens"] = 32,
        });
        json.Examples["generate_image"] = Example("Generated image output (MmServe extension): message.images holds a PNG data URL", new JsonObject
        {
            ["model"] = models.Default.Id,
            ["messages"] = new JsonArray(Message("user", "Draw a red circle.")),
            ["modalities"] = new JsonArray("text", "image"),
            ["temperature"] = 0,
            ["max_tokens"] = 32,
        });
        json.Examples["generate_audio"] = Example("Generated audio output (as OpenAI): message.audio holds a WAV file and its transcript", new JsonObject
        {
            ["model"] = models.Default.Id,
            ["messages"] = new JsonArray(Message("user", "Please play two high beeps.")),
            ["modalities"] = new JsonArray("text", "audio"),
            ["audio"] = new JsonObject { ["voice"] = "default", ["format"] = "wav" },
            ["temperature"] = 0,
            ["max_tokens"] = 32,
        });
        json.Examples["logprobs"] = Example("Log probabilities and the token-id extension", new JsonObject
        {
            ["model"] = models.Default.Id,
            ["messages"] = new JsonArray(Message("user", "Hello!")),
            ["temperature"] = 0,
            ["max_tokens"] = 8,
            ["logprobs"] = true,
            ["top_logprobs"] = 3,
            ["return_token_ids"] = true,
        });
        json.Examples["json_schema"] = Example("Structured output: the answer is decoded under a JSON Schema (response_format json_schema)", new JsonObject
        {
            ["model"] = models.Default.Id,
            ["messages"] = new JsonArray(Message("user", "Describe a red circle as JSON.")),
            ["response_format"] = new JsonObject
            {
                ["type"] = "json_schema",
                ["json_schema"] = new JsonObject
                {
                    ["name"] = "shape",
                    ["strict"] = true,
                    ["schema"] = JsonNode.Parse("""
                        {"type":"object","properties":{"color":{"type":"string","maxLength":12},"kind":{"enum":["circle","square","triangle"]},"count":{"type":"integer"}},
                         "required":["color","kind","count"],"additionalProperties":false}
                        """),
                },
            },
            ["max_tokens"] = 80,
        });
        json.Examples["tools"] = Example("Tool calling: tool_choice \"required\" forces a call whose arguments follow the function's schema", new JsonObject
        {
            ["model"] = models.Default.Id,
            ["messages"] = new JsonArray(Message("user", "How many red shapes are there?")),
            ["tools"] = new JsonArray(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = "count_shapes",
                    ["description"] = "Counts the shapes of one color in the image.",
                    ["parameters"] = JsonNode.Parse("""{"type":"object","properties":{"color":{"type":"string","maxLength":12}},"required":["color"],"additionalProperties":false}"""),
                },
            }),
            ["tool_choice"] = "required",
            ["max_tokens"] = 120,
        });
    }

    private static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    private static OpenApiExample Example(string summary, JsonObject value) => new() { Summary = summary, Value = value };
}
