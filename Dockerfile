# syntax=docker/dockerfile:1
#
# MmServe container images (linux/amd64; the ONNX Runtime GPU package is x64-only, so the worker images are too).
#
#   docker build --target cpu     -t mmserve:0.1.0-cpu .        # CPU worker, ASP.NET Core runtime on Ubuntu 24.04
#   docker build --target cuda    -t mmserve:0.1.0-cuda .       # GPU worker, CUDA 13 + cuDNN 9 runtime + .NET runtime
#   docker build --target gateway -t mmserve-gateway:0.1.0 .    # YARP gateway
#
# Base images, pinned by tag (add @sha256 digests in a registry-connected CI if you want them immutable):
#   mcr.microsoft.com/dotnet/sdk:10.0.401-noble     SDK 10.0.401 is the SDK this repository's CI builds with; the tag is
#                                                   used by public Dockerfiles, but it could not be pulled from here.
#   mcr.microsoft.com/dotnet/aspnet:10.0.12-noble   runtime 10.0.12 is what SDK 10.0.401 targets and what CI runs on;
#                                                   tag seen in public Dockerfiles, not pulled from here.
#   nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04    CUDA 13.0 + cuDNN 9 on Ubuntu 24.04 (the distro of the noble .NET
#                                                   images, so the copied runtime finds its libraries); tag seen in public
#                                                   Dockerfiles, not pulled from here. ONNX Runtime GPU 1.31 needs CUDA 13.x.
# No registry is reachable from the machine these files were written on, so none of the three was pulled or digested.
#
# tests/MmServe.DeployTests/Docker/DockerfileBuildTests.cs runs this file's `dotnet publish` lines verbatim (output
# folder aside) on a copy of the build context filtered by .dockerignore, starts the published worker and gateway the
# way ENTRYPOINT/ENV below do, and runs the HEALTHCHECK command against them: change them here and that test follows.

FROM mcr.microsoft.com/dotnet/sdk:10.0.401-noble AS build
WORKDIR /src
# The whole context (see .dockerignore: sources, protos, build props and models/mmserve-tiny; no tests, no bin/obj).
COPY . .

FROM build AS publish-cpu
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/MmServe.Api/MmServe.Api.csproj -c Release -r linux-x64 --self-contained false -p:UseAppHost=false -o /out/worker

# The GPU flavour: -p:OrtFlavor=cuda swaps Microsoft.ML.OnnxRuntime for Microsoft.ML.OnnxRuntime.Gpu.Linux.
FROM build AS publish-cuda
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/MmServe.Api/MmServe.Api.csproj -c Release -r linux-x64 --self-contained false -p:UseAppHost=false -p:OrtFlavor=cuda -o /out/worker

FROM build AS publish-gateway
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/MmServe.Gateway/MmServe.Gateway.csproj -c Release -r linux-x64 --self-contained false -p:UseAppHost=false -o /out/gateway

# ---- runtime images -------------------------------------------------------------------------------------------------

FROM mcr.microsoft.com/dotnet/aspnet:10.0.12-noble AS aspnet

# CPU worker. ffmpeg decodes video and flac/ogg/webm/m4a audio; curl is the HEALTHCHECK's client (the aspnet image has
# none; curl --fail is clearer than a hand-rolled probe and costs a few MB next to ffmpeg's dependencies).
FROM aspnet AS cpu
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Baked in: the bundled model. Serve another one by mounting it (e.g. at /models/my-model) and setting Model__Path.
COPY models/mmserve-tiny /models/mmserve-tiny
COPY --from=publish-cpu /out/worker /app
# REST on 8080 (HTTP/1.1 and SSE), gRPC h2c on 8081 on every interface (the app's default Grpc:Host is localhost).
# /tmp holds ffmpeg's temporary media files: with a read-only root filesystem, mount a writable volume there.
# MALLOC_ARENA_MAX=2: glibc would otherwise give the engine, ORT and thread-pool threads malloc arenas of their own,
# and native memory crept up under a steady load (the soak in docs/benchmarks.md). MALLOC_MMAP_THRESHOLD_ (1 MiB) and
# MALLOC_TRIM_THRESHOLD_ (4 MiB) fix glibc's otherwise self-raising mmap threshold: blocks of 1 MiB and more are mapped
# and unmapped on their own instead of being carved from (and stranded in) the heap; with both, RSS after warm-up
# stays within the soak's 5 %.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Grpc__Host=* \
    Grpc__Port=8081 \
    Model__Path=/models/mmserve-tiny \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=1048576 \
    MALLOC_TRIM_THRESHOLD_=4194304
EXPOSE 8080 8081
# 1654 is the aspnet image's "app" user; numeric so that Kubernetes' runAsNonRoot can verify it.
USER 1654
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
    CMD curl --fail --silent --show-error --max-time 2 "http://127.0.0.1:${ASPNETCORE_HTTP_PORTS}/health/ready" >/dev/null || exit 1
ENTRYPOINT ["dotnet", "MmServe.Api.dll"]

# GPU worker: NVIDIA's CUDA + cuDNN runtime with the same ASP.NET Core runtime copied from the aspnet image (both are
# Ubuntu 24.04), plus the libraries that runtime needs, which the aspnet image brings and the CUDA image does not.
FROM nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04 AS cuda
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates libicu74 libssl3t64 libstdc++6 tzdata zlib1g ffmpeg curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 1654 app \
    && useradd --uid 1654 --gid 1654 --no-create-home --shell /usr/sbin/nologin app
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
WORKDIR /app
COPY models/mmserve-tiny /models/mmserve-tiny
COPY --from=publish-cuda /out/worker /app
# Workers__0__Device=cuda: without a usable GPU the worker stops at start with a clear error instead of running 50x
# slower on the CPU (set Workers__0__AllowCpuFallback=true to accept that fallback).
ENV DOTNET_RUNNING_IN_CONTAINER=true \
    ASPNETCORE_HTTP_PORTS=8080 \
    Grpc__Host=* \
    Grpc__Port=8081 \
    Model__Path=/models/mmserve-tiny \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=1048576 \
    MALLOC_TRIM_THRESHOLD_=4194304 \
    Workers__0__Device=cuda \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
EXPOSE 8080 8081
USER 1654
HEALTHCHECK --interval=10s --timeout=3s --start-period=300s --retries=3 \
    CMD curl --fail --silent --show-error --max-time 2 "http://127.0.0.1:${ASPNETCORE_HTTP_PORTS}/health/ready" >/dev/null || exit 1
ENTRYPOINT ["dotnet", "MmServe.Api.dll"]

# Gateway: no model, no ffmpeg. REST on 8080, gRPC h2c on its own port 8081 (Gateway:Grpc, localhost by default) on
# every interface. Its workers come from a mounted appsettings.Production.json: Gateway:Dns:Name or Gateway:Workers
# (docs/gateway.md).
FROM aspnet AS gateway
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=publish-gateway /out/gateway /app
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Gateway__Grpc__Host=* \
    Gateway__Grpc__Port=8081
EXPOSE 8080 8081
USER 1654
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl --fail --silent --show-error --max-time 2 "http://127.0.0.1:${ASPNETCORE_HTTP_PORTS}/health/ready" >/dev/null || exit 1
ENTRYPOINT ["dotnet", "MmServe.Gateway.dll"]
