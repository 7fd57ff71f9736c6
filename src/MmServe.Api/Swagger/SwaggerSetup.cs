using Microsoft.OpenApi;

namespace MmServe.Api.Swagger;

/// <summary>The OpenAPI document (/swagger/v1/swagger.json) and Swagger UI (/swagger).</summary>
internal static class SwaggerSetup
{
    public const string DocumentName = "v1";

    /// <param name="services">The app's services.</param>
    /// <param name="apiKeys">Whether API keys are required: the document then declares the bearer scheme.</param>
    public static IServiceCollection AddMmServeSwagger(this IServiceCollection services, bool apiKeys)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "MmServe",
                Version = DocumentName,
                Description = "OpenAI-compatible serving of multimodal LLMs on ONNX Runtime.",
            });
            options.OperationFilter<ChatCompletionExamplesFilter>();
            options.OperationFilter<GenerationExamplesFilter>();
            if (apiKeys)
            {
                options.DocumentFilter<ApiKeySecurityFilter>();
            }

            var xml = Path.Combine(AppContext.BaseDirectory, "MmServe.Api.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }
        });
        return services;
    }

    public static WebApplication UseMmServeSwagger(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint($"/swagger/{DocumentName}/swagger.json", "MmServe v1");
            options.DocumentTitle = "MmServe API";
        });
        return app;
    }
}
