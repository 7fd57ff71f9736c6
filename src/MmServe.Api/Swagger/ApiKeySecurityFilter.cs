using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace MmServe.Api.Swagger;

/// <summary>
/// With API keys on, the document declares the HTTP bearer scheme the server accepts and requires it on every
/// operation, so Swagger UI shows its Authorize button and sends "Authorization: Bearer KEY" with each "Try it out";
/// each operation also lists the 401 it answers without a valid key. With keys off the document says nothing about
/// security, which is the truth.
/// </summary>
internal sealed class ApiKeySecurityFilter : IDocumentFilter
{
    public const string SchemeId = "apiKey";

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key of this server, sent as \"Authorization: Bearer KEY\" (the x-api-key header is accepted too).",
        };
        var requirement = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, document)] = [] };
        var unauthorized = new OpenApiResponse
        {
            Description = "No API key, or not one of this server's (error code missing_api_key or invalid_api_key).",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/json"] = new() { Schema = new OpenApiSchemaReference(nameof(Errors.OpenAiErrorResponse), document) },
            },
        };
        foreach (var operation in document.Paths.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? []))
        {
            operation.Security = [requirement];
            operation.Responses ??= [];
            operation.Responses.TryAdd("401", unauthorized);
        }
    }
}
