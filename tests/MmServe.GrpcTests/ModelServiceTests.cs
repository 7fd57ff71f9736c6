using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using MmServe.Grpc.V1;
using MmServe.GrpcTests.Infrastructure;

namespace MmServe.GrpcTests;

/// <summary>ModelService, grpc.health.v1 and reflection, next to the REST API on its own port.</summary>
public sealed class ModelServiceTests(GrpcServerFixture server) : IClassFixture<GrpcServerFixture>
{
    [Fact]
    public async Task ListModels_DescribesTheServedModelLikeTheRestApi()
    {
        var models = await server.Models.ListModelsAsync(new ListModelsRequest());
        var model = Assert.Single(models.Models);
        Assert.Equal(Chat.Model, model.Id);
        Assert.Equal("mmserve", model.OwnedBy);

        // REST on its own HTTP/1.1 port reports the same model.
        using var rest = server.Factory.CreateHttpClient();
        var card = (await rest.GetFromJsonAsync<JsonElement>("v1/models")).GetProperty("data")[0];
        Assert.Equal(card.GetProperty("id").GetString(), model.Id);
        Assert.Equal(card.GetProperty("created").GetInt64(), model.Created);
        var capabilities = card.GetProperty("capabilities");
        Assert.Equal(capabilities.GetProperty("max_context").GetInt32(), model.Capabilities.MaxContext);
        Assert.Equal(
            capabilities.GetProperty("input_modalities").EnumerateArray().Select(m => m.GetString()),
            model.Capabilities.InputModalities.Select(m => m.ToString().ToLowerInvariant()));
        Assert.Equal([Modality.Text, Modality.Audio, Modality.Image], model.Capabilities.OutputModalities);
    }

    [Fact]
    public async Task GetModel_ReportsLimitsAndAcceptedMimeTypes()
    {
        var model = await server.Models.GetModelAsync(new GetModelRequest { Id = Chat.Model });
        var capabilities = model.Capabilities;
        Assert.Equal(MmServeFactory.MaxBodyBytes, capabilities.MaxRequestBytes);
        var images = Assert.Single(capabilities.MediaLimits, l => l.Modality == Modality.Image);
        Assert.Equal(MmServeFactory.MaxImages, images.MaxItemsPerRequest);
        Assert.True(images.MaxBytes > 0);
        Assert.Contains("image/png", capabilities.AcceptedMimeTypes);
        Assert.Contains("audio/wav", capabilities.AcceptedMimeTypes);
        if (ToolRequirement.Ffmpeg.Available)
        {
            Assert.Contains("video/mp4", capabilities.AcceptedMimeTypes);
            Assert.Empty(capabilities.UnavailableInputs);
        }
    }

    [Fact]
    public async Task Health_IsServingOnceWarmedUp()
    {
        var health = new Health.HealthClient(server.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(
            HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest { Service = "mmserve.v1.ChatService" })).Status);
    }

    [Fact]
    public async Task Reflection_ListsTheServices()
    {
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("mmserve.v1.ChatService", services);
        Assert.Contains("mmserve.v1.ModelService", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.True(services.Contains("grpc.reflection.v1alpha.ServerReflection"), string.Join(", ", services));
    }
}
