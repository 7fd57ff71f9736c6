using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using MmServe.Abstractions;
using MmServe.Api.Auth;
using MmServe.Api.Grpc;
using MmServe.Api.Health;
using MmServe.Api.OpenAi.Audio;
using MmServe.Api.OpenAi.ChatCompletions;
using MmServe.Api.OpenAi.Images;
using MmServe.Api.RateLimits;
using MmServe.Serving;
using MmServe.Serving.Capabilities;
using MmServe.Serving.Generation;
using MmServe.Serving.Models;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Sessions;
using MmServe.Serving.Tasks;
using MmServe.Api.Swagger;
using MmServe.Api.Telemetry;
using MmServe.Serving.Telemetry;
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
        services.AddMmServeApiKeys(builder.Configuration);
        services.AddMmServeRateLimits(builder.Configuration);
        services.AddMmServeCors(builder.Configuration);
        services.AddMmServeSwagger(apiKeys: (builder.Configuration.GetSection(ApiKeyOptions.SectionName).Get<ApiKeyOptions>() ?? new()).Enabled);
        services.AddMmServeTelemetry(builder.Configuration);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        return builder;
    }

    /// <summary>Binds Model, Workers, Engine and Limits; a bad value fails start with a message naming its key.</summary>
    private static void AddServingOptions(this IServiceCollection services)
    {
        services.AddOptions<ModelOptions>()
            .BindStrictly(ModelOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>();

        services.AddOptions<ModelListOptions>()
            .Configure<IConfiguration>((options, configuration) =>
                options.Models = StrictConfiguration.GetList<ModelEntryOptions>(configuration.GetSection(ModelListOptions.SectionName)) ?? options.Models)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelListOptions>, ModelListOptionsValidator>();

        // With "Models", entry 0 is served through the one-model settings.
        services.AddOptions<ModelOptions>()
            .PostConfigure<IOptions<ModelListOptions>>((model, list) =>
            {
                if (list.Value.Models is [var first, ..])
                {
                    (model.Path, model.Id) = (first.Path, first.Id);
                }
            });

        services.AddOptions<WorkerPoolOptions>()
            .Configure<IConfiguration>((options, configuration) =>
                options.Workers = StrictConfiguration.GetList<WorkerOptions>(configuration.GetSection(WorkerPoolOptions.SectionName)) ?? options.Workers)
            .PostConfigure<IOptions<ModelListOptions>>((options, list) =>
            {
                if (list.Value.Models is [{ Workers: { Count: > 0 } own }, ..])
                {
                    options.Workers = own;
                    options.SettingPath = $"{ModelListOptions.SectionName}:0:{WorkerPoolOptions.SectionName}";
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkerPoolOptions>, WorkerPoolOptionsValidator>();

        services.AddOptions<EngineOptions>()
            .BindStrictly("Engine")
            .PostConfigure<IOptions<WorkerPoolOptions>>((engine, workers) => engine.NumWorkers = Math.Max(1, workers.Value.Workers.Count))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EngineOptions>, EngineOptionsValidator>();

        // Draining on SIGTERM (GracefulShutdown): not ready at once, serving on for Shutdown:DrainDelay, then the
        // requests in flight get Engine:ShutdownTimeout before they end with "abort". The host's own timeout (which
        // cuts connections) comes a margin after both, so it never has to.
        services.AddOptions<ShutdownOptions>()
            .BindStrictly(ShutdownOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ShutdownOptions>, ShutdownOptionsValidator>();
        // PostConfigure: this replaces the web host's own "shutdownTimeoutSeconds", which no longer means anything here.
        services.AddOptions<HostOptions>()
            .PostConfigure<IOptions<EngineOptions>, IOptions<ShutdownOptions>>((host, engine, shutdown) =>
                host.ShutdownTimeout = shutdown.Value.DrainDelay + engine.Value.ShutdownTimeout + ShutdownOptions.HostMargin);
        services.AddSingleton<GracefulShutdown>();
        services.AddHostedService(sp => sp.GetRequiredService<GracefulShutdown>());

        services.AddOptions<LimitsOptions>()
            .BindStrictly(LimitsOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();

        services.AddOptions<MediaOptions>()
            .BindStrictly(MediaOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<MediaOptions>, MediaOptionsValidator>();

        services.AddOptions<GenerationOptions>()
            .BindStrictly(GenerationOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GenerationOptions>, GenerationOptionsValidator>();

        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<LimitsOptions>>((kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes);
    }

    /// <summary>
    /// The first model over the container's parts (which hosts and tests may decorate), then every further entry of
    /// "Models" with its own engine, encoders and generators.
    /// </summary>
    private static ModelRegistry CreateRegistry(IServiceProvider sp)
    {
        var loggerFactory = sp.GetRequiredService<ILoggerFactory>();
        var first = ModelInstanceFactory.Assemble(
            sp.GetRequiredService<ServedModel>(),
            sp.GetRequiredService<IGenerationEngine>(),
            sp.GetRequiredService<GenerationEngine>(),
            sp.GetRequiredService<MediaEmbedder>(),
            sp.GetRequiredService<IMediaGenerator>(),
            sp.GetRequiredService<MediaGenerator>(),
            loggerFactory,
            sp.GetService<ServingMetrics>(),
            sp.GetRequiredService<WorkerPlacements>());
        var entries = sp.GetRequiredService<IOptions<ModelListOptions>>().Value.Models;
        var instances = new List<ModelInstance> { first };
        try
        {
            var configuration = sp.GetRequiredService<IConfiguration>();
            var topLevelWorkers = configuration.GetSection(WorkerPoolOptions.SectionName).Get<List<WorkerOptions>>() is { Count: > 0 } workers
                ? workers
                : [new WorkerOptions()];
            for (int i = 1; i < entries.Count; i++)
            {
                instances.Add(ModelInstanceFactory.Create(
                    entries[i],
                    $"{ModelListOptions.SectionName}:{i}",
                    sp.GetRequiredService<IHostEnvironment>().ContentRootPath,
                    topLevelWorkers,
                    sp.GetRequiredService<IOptions<EngineOptions>>().Value,
                    sp.GetRequiredService<IOptions<LimitsOptions>>().Value,
                    sp.GetRequiredService<IOptions<MediaOptions>>().Value,
                    sp.GetRequiredService<IOptions<GenerationOptions>>().Value,
                    sp.GetRequiredService<FfmpegSupport>(),
                    loggerFactory,
                    sp.GetService<ServingMetrics>()));
            }

            return new ModelRegistry(instances, sp.GetService<ServingMetrics>());
        }
        catch
        {
            foreach (var built in instances.Skip(1))
            {
                built.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }
    }

    private static void AddModelServing(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ServedModel>();
        services.AddSingleton<ModelReadiness>();
        services.AddSingleton<WorkerPlacements>();
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
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetService<ServingMetrics>(),
            $"{sp.GetRequiredService<IOptions<WorkerPoolOptions>>().Value.SettingPath}:0"));
        services.AddSingleton<MediaGenerator>(sp => MediaGeneratorFactory.Create(
            sp.GetRequiredService<ServedModel>(),
            sp.GetRequiredService<IOptions<GenerationOptions>>().Value,
            sp.GetRequiredService<IOptions<WorkerPoolOptions>>().Value.Workers[0],
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetService<ServingMetrics>(),
            $"{sp.GetRequiredService<IOptions<WorkerPoolOptions>>().Value.SettingPath}:0"));
        services.AddSingleton<IMediaGenerator>(sp => sp.GetRequiredService<MediaGenerator>());
        services.AddSingleton(sp => CreateRegistry(sp));
        services.AddSingleton<LogprobsMapper>();
        services.AddSingleton<ChatCompletionService>();
        services.AddSingleton<ImageGenerationService>();
        services.AddSingleton<SpeechService>();
        services.AddSingleton(sp => MmServe.Serving.Speech.SpeechModelRegistry.Create(
            sp.GetRequiredService<IConfiguration>(),
            sp.GetRequiredService<IHostEnvironment>().ContentRootPath,
            sp.GetRequiredService<IOptions<EngineOptions>>().Value,
            sp.GetRequiredService<FfmpegSupport>().Tools,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<TranscriptionService>();
        services.AddSingleton<Florence2ChatService>();
        services.AddSingleton(sp => MmServe.Serving.Florence2.Florence2ModelRegistry.Create(
            sp.GetRequiredService<IConfiguration>(),
            sp.GetRequiredService<IHostEnvironment>().ContentRootPath,
            sp.GetRequiredService<IOptions<EngineOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<MmServe.Serving.Models.ModelCatalog>();
        services.AddHostedService<ModelStartupService>();
    }
}
