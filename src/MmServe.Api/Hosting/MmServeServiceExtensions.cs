using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using MmServe.Abstractions;
using MmServe.Api.Grpc;
using MmServe.Api.Health;
using MmServe.Api.OpenAi.Audio;
using MmServe.Api.OpenAi.ChatCompletions;
using MmServe.Api.OpenAi.Images;
using MmServe.Serving;
using MmServe.Serving.Generation;
using MmServe.Serving.Capabilities;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tasks;
using MmServe.Api.Swagger;
using MmServe.Engine;

namespace MmServe.Api.Hosting;

/// <summary>Everything Program.cs wires up: options, the model and engine, the OpenAI endpoints, gRPC, health, Swagger.</summary>
internal static class MmServeServiceExtensions
{
    public static WebApplicationBuilder AddMmServe(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddServingOptions();
        services.AddModelServing();
        services.AddMmServeHealthChecks();
        services.AddMmServeGrpc();
        services.AddMmServeSwagger();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        return builder;
    }

    /// <summary>Binds Model, Workers, Engine and Limits; a bad value fails start with a message naming its key.</summary>
    private static void AddServingOptions(this IServiceCollection services)
    {
        services.AddOptions<ModelOptions>()
            .BindConfiguration(ModelOptions.SectionName, b => b.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>();

        services.AddOptions<WorkerPoolOptions>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                var section = configuration.GetSection(WorkerPoolOptions.SectionName);
                if (section.Exists())
                {
                    options.Workers = section.Get<List<WorkerOptions>>(b => b.ErrorOnUnknownConfiguration = true) ?? [];
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkerPoolOptions>, WorkerPoolOptionsValidator>();

        services.AddOptions<EngineOptions>()
            .BindConfiguration("Engine", b => b.ErrorOnUnknownConfiguration = true)
            .PostConfigure<IOptions<WorkerPoolOptions>>((engine, workers) => engine.NumWorkers = Math.Max(1, workers.Value.Workers.Count))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EngineOptions>, EngineOptionsValidator>();

        services.AddOptions<LimitsOptions>()
            .BindConfiguration(LimitsOptions.SectionName, b => b.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();

        services.AddOptions<MediaOptions>()
            .BindConfiguration(MediaOptions.SectionName, b => b.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<MediaOptions>, MediaOptionsValidator>();

        services.AddOptions<GenerationOptions>()
            .BindConfiguration(GenerationOptions.SectionName, b => b.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GenerationOptions>, GenerationOptionsValidator>();

        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<LimitsOptions>>((kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes);
    }

    private static void AddModelServing(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ServedModel>();
        services.AddSingleton<ModelReadiness>();
        services.AddSingleton<IModelExecutorFactory, OnnxExecutorFactory>();
        services.AddSingleton(sp => new GenerationEngine(
            sp.GetRequiredService<IModelExecutorFactory>(),
            sp.GetRequiredService<ServedModel>().TextDecoder,
            sp.GetRequiredService<IOptions<EngineOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IGenerationEngine>(sp => sp.GetRequiredService<GenerationEngine>());
        services.AddSingleton<FfmpegSupport>(sp => FfmpegSupport.Detect(
            sp.GetRequiredService<IOptions<MediaOptions>>().Value, sp.GetRequiredService<IOptions<LimitsOptions>>().Value,
            sp.GetRequiredService<ILogger<FfmpegSupport>>()));
        services.AddSingleton(sp => MediaEmbedderFactory.Create(
            sp.GetRequiredService<ServedModel>(),
            sp.GetRequiredService<IOptions<LimitsOptions>>().Value,
            sp.GetRequiredService<IOptions<MediaOptions>>().Value,
            sp.GetRequiredService<IOptions<WorkerPoolOptions>>().Value.Workers[0],
            sp.GetRequiredService<FfmpegSupport>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<MediaGenerator>(sp => MediaGeneratorFactory.Create(
            sp.GetRequiredService<ServedModel>(),
            sp.GetRequiredService<IOptions<GenerationOptions>>().Value,
            sp.GetRequiredService<IOptions<WorkerPoolOptions>>().Value.Workers[0],
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IMediaGenerator>(sp => sp.GetRequiredService<MediaGenerator>());
        services.AddSingleton(sp => sp.GetRequiredService<MediaEmbedder>().Policy);
        services.AddSingleton<GenerationRules>();
        services.AddSingleton<TokenLogprobs>();
        services.AddSingleton<PromptPreparer>();
        services.AddSingleton<GenerationService>();
        services.AddSingleton<SingleTurnRunner>();
        services.AddSingleton<ModelDescription>();
        services.AddSingleton(sp => new ModelWarmUp(
            sp.GetRequiredService<ServedModel>(),
            sp.GetRequiredService<MediaEmbedder>(),
            sp.GetRequiredService<MediaGenerator>(),
            sp.GetRequiredService<GenerationEngine>(),
            sp.GetRequiredService<PromptPreparer>(),
            sp.GetRequiredService<TokenLogprobs>(),
            sp.GetRequiredService<ILogger<GenerationSession>>()));
        services.AddSingleton<LogprobsMapper>();
        services.AddSingleton<ChatCompletionService>();
        services.AddSingleton<ImageGenerationService>();
        services.AddSingleton<SpeechService>();
        services.AddSingleton<TranscriptionService>();
        services.AddHostedService<ModelStartupService>();
    }
}
