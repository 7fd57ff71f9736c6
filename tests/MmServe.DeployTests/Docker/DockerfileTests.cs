using MmServe.DeployTests.Infrastructure;

namespace MmServe.DeployTests.Docker;

/// <summary>What can be read off the Dockerfile and .dockerignore without building anything.</summary>
public sealed class DockerfileTests
{
    private static readonly DockerfileModel Dockerfile = DockerfileModel.Load(RepoFiles.Dockerfile);
    private static readonly DockerContext Context = DockerContext.Load(RepoFiles.DockerIgnore);

    public static TheoryData<string> Targets() => ["cpu", "cuda", "gateway"];

    public static TheoryData<string> WorkerTargets() => ["cpu", "cuda"];

    [Fact]
    public void EveryBaseImage_IsPinnedToAVersionTag()
    {
        var images = Dockerfile.ExternalImages().ToList();
        Assert.NotEmpty(images);
        Assert.All(images, image => Assert.True(ImageReference.IsPinned(image), $"{image} is not pinned to a version tag"));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Target_RunsAsANumericNonRootUser_WithAHealthcheckOnReadiness(string target)
    {
        var stage = Dockerfile.Stage(target);
        var user = Dockerfile.User(stage);
        Assert.True(int.TryParse(user, out var uid) && uid > 0, $"{target}: USER {user} must be a numeric non-root uid (Kubernetes' runAsNonRoot can only verify numbers)");

        var (options, command) = Dockerfile.Healthcheck(stage) ?? throw new InvalidOperationException($"{target} has no HEALTHCHECK");
        Assert.Contains("/health/ready", command, StringComparison.Ordinal);
        Assert.Contains("${ASPNETCORE_HTTP_PORTS}", command, StringComparison.Ordinal);
        Assert.Contains("--start-period", options.Keys);
        Assert.Contains(Dockerfile.All(stage, "RUN"), run => run.Arguments.Contains("install", StringComparison.Ordinal) && DockerfileModel.ShellWords(run.Arguments).Contains("curl"));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Target_ExposesThePortsItsEnvironmentBinds(string target)
    {
        var stage = Dockerfile.Stage(target);
        var env = Dockerfile.Env(stage);
        // Both apps listen for gRPC on a port of their own (the worker's Grpc section, the gateway's Gateway:Grpc), on
        // localhost unless told otherwise: the image must bind it on every interface. DockerfileBuildTests checks the
        // published apps really do.
        var grpc = target == "gateway" ? "Gateway__Grpc__" : "Grpc__";
        var host = env.GetValueOrDefault(grpc + "Host", "(not set: localhost)");
        Assert.True(ContainerSettings.BindsAllInterfaces(host), $"{target}: {grpc}Host is {host}, so gRPC is not reachable from outside the container");
        var expected = new[] { env["ASPNETCORE_HTTP_PORTS"], env[grpc + "Port"] }.Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expected.Order(), Dockerfile.ExposedPorts(stage).Order());
    }

    [Theory]
    [MemberData(nameof(WorkerTargets))]
    public void WorkerTarget_InstallsFfmpeg_AndBakesInTheModelItsEnvironmentNames(string target)
    {
        var stage = Dockerfile.Stage(target);
        Assert.Contains(Dockerfile.All(stage, "RUN"), run => DockerfileModel.ShellWords(run.Arguments).Contains("ffmpeg"));

        var modelPath = Dockerfile.Env(stage)["Model__Path"];
        var copy = Assert.Single(Dockerfile.Copies(stage), c => c.From is null && c.Destination.TrimEnd('/') == modelPath);
        var source = Assert.Single(copy.Sources);
        Assert.True(File.Exists(Path.Combine(RepoFiles.Root, source, "manifest.json")), $"{source} is not a model bundle");
        Assert.False(Context.IsExcluded(source), $".dockerignore leaves {source} out of the build context");
        Assert.False(Context.IsExcluded(source + "/decoder.onnx"));
    }

    [Fact]
    public void CudaTarget_IsBuiltOnCuda13WithCudnn_AndTheSameDotnetRuntimeAsCpu()
    {
        var cuda = Dockerfile.Stage("cuda");
        var cpu = Dockerfile.Stage("cpu");
        var cudaBase = Dockerfile.BaseImage(cuda);
        Assert.StartsWith("nvidia/cuda:13.", cudaBase, StringComparison.Ordinal);
        Assert.Contains("cudnn-runtime-ubuntu24.04", cudaBase, StringComparison.Ordinal);

        // The .NET runtime comes from the cpu target's base image, which is the same Ubuntu (noble = 24.04).
        var runtimeCopy = Assert.Single(Dockerfile.Copies(cuda), c => c.Destination == "/usr/share/dotnet");
        Assert.Equal(Dockerfile.BaseImage(cpu), Dockerfile.BaseImage(Dockerfile.Stage(runtimeCopy.From!)));
        Assert.EndsWith("-noble", Dockerfile.BaseImage(cpu), StringComparison.Ordinal);
    }

    [Fact]
    public void WorkerTargets_PublishTheSameProjectWithTheSameFlags_ExceptTheGpuSwitch()
    {
        IReadOnlyList<string> Publish(string target) =>
            Dockerfile.PublishCommands(Dockerfile.Stage(Assert.Single(Dockerfile.Copies(Dockerfile.Stage(target)), c => c.Destination == "/app").From!)).Single();

        var cpu = Publish("cpu");
        var cuda = Publish("cuda");
        Assert.Equal(cpu, cuda.Where(a => a != "-p:OrtFlavor=cuda"));
        Assert.Contains("-p:OrtFlavor=cuda", cuda);
        Assert.Equal("src/MmServe.Api/MmServe.Api.csproj", cpu[1]);
        Assert.Equal(["dotnet", "MmServe.Api.dll"], Dockerfile.Entrypoint(Dockerfile.Stage("cpu")));
        Assert.Equal(["dotnet", "MmServe.Gateway.dll"], Dockerfile.Entrypoint(Dockerfile.Stage("gateway")));
    }

    [Fact]
    public void DockerIgnore_KeepsTheSourcesAndDropsBuildOutputsAndTests()
    {
        foreach (var kept in new[] { "src/MmServe.Api/MmServe.Api.csproj", "protos/mmserve/v1/chat.proto", "Directory.Build.props", "Directory.Packages.props", "global.json", "models/mmserve-tiny/manifest.json" })
        {
            Assert.False(Context.IsExcluded(kept), $"{kept} must be in the build context");
        }

        foreach (var dropped in new[] { "src/MmServe.Api/bin/Debug/net10.0/MmServe.Api.dll", "src/MmServe.Model/obj/project.assets.json", ".git/HEAD", "tests/MmServe.FunctionalTests/StartupTests.cs", "models/mmserve-tiny/golden/cases.json", "tests/MmServe.GrpcTests/node/node_modules/x.js" })
        {
            Assert.True(Context.IsExcluded(dropped), $"{dropped} should stay out of the build context");
        }
    }
}
