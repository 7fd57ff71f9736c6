using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using MmServe.Api.OpenAi.Audio;
using MmServe.Api.OpenAi.Images;
using MmServe.Serving;
using MmServe.Serving.Models;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace MmServe.Api.Swagger;

/// <summary>
/// Swagger UI for the generation endpoints: request examples that work as they are for /v1/images/generations and
/// /v1/audio/speech, and the multipart form of /v1/audio/transcriptions (its handler reads the form itself, so
/// the schema is declared here for "Try it out" to offer a file upload).
/// </summary>
internal sealed class GenerationExamplesFilter(ModelRegistry models) : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        switch ("/" + context.ApiDescription.RelativePath)
        {
            case ImagesEndpoint.Route:
                AddExamples(operation, new()
                {
                    ["image"] = Example("One 64x64 image as base64 PNG", new JsonObject
                    {
                        ["model"] = models.Default.Id,
                        ["prompt"] = "a red circle",
                        ["n"] = 1,
                        ["size"] = "64x64",
                        ["response_format"] = "b64_json",
                    }),
                });
                break;
            case AudioEndpoints.SpeechRoute:
                AddExamples(operation, new()
                {
                    ["wav"] = Example("A WAV file (mmserve-tiny renders beeps)", new JsonObject
                    {
                        ["model"] = models.Default.Id,
                        ["input"] = "two high beeps",
                        ["voice"] = "default",
                        ["response_format"] = "wav",
                    }),
                });
                break;
            case AudioEndpoints.TranscriptionsRoute:
                operation.RequestBody = TranscriptionForm();
                break;
        }
    }

    private OpenApiRequestBody TranscriptionForm() => new()
    {
        Required = true,
        Description = "The audio file and the model; prompt replaces the model's transcription instruction.",
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["multipart/form-data"] = new()
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "file", "model" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "wav or mp3 (flac, ogg, webm, m4a with ffmpeg)" },
                        ["model"] = new OpenApiSchema { Type = JsonSchemaType.String, Default = JsonValue.Create(models.Default.Id) },
                        ["prompt"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Instruction sent with the audio (default: the model's transcription prompt)" },
                        ["response_format"] = new OpenApiSchema { Type = JsonSchemaType.String, Default = JsonValue.Create("json"), Description = "json or text" },
                        ["temperature"] = new OpenApiSchema { Type = JsonSchemaType.Number, Description = "0..1; 0 (default) is greedy" },
                        ["language"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Accepted and ignored" },
                    },
                },
            },
        },
    };

    private static void AddExamples(OpenApiOperation operation, Dictionary<string, OpenApiExample> examples)
    {
        if (operation.RequestBody?.Content is not { } content || !content.TryGetValue("application/json", out var json))
        {
            return;
        }

        json.Examples ??= new Dictionary<string, IOpenApiExample>();
        foreach (var (name, example) in examples)
        {
            json.Examples[name] = example;
        }
    }

    private static OpenApiExample Example(string summary, JsonObject value) => new() { Summary = summary, Value = value };
}
