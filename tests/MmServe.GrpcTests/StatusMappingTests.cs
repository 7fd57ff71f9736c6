using Grpc.Core;
using MmServe.Abstractions;
using MmServe.Api.Grpc;
using MmServe.Media;
using MmServe.Serving.Errors;

namespace MmServe.GrpcTests;

/// <summary>The one ServingError → gRPC status mapping, for every error the engine, the media code and the parsers produce.</summary>
public sealed class StatusMappingTests
{
    public static TheoryData<EngineErrorCode, StatusCode> EngineCodes => new()
    {
        { EngineErrorCode.InvalidRequest, StatusCode.InvalidArgument },
        { EngineErrorCode.ContextLengthExceeded, StatusCode.InvalidArgument },
        { EngineErrorCode.QueueFull, StatusCode.ResourceExhausted },
        { EngineErrorCode.Unavailable, StatusCode.Unavailable },
        { EngineErrorCode.Cancelled, StatusCode.Cancelled },
        { EngineErrorCode.Internal, StatusCode.Internal },
    };

    [Theory]
    [MemberData(nameof(EngineCodes))]
    public void EngineErrors_MapToTheDocumentedStatus(EngineErrorCode code, StatusCode expected)
    {
        var error = ServingError.FromEngine(new EngineError(code, "message", "top_p"), "req-1");
        Assert.Equal(expected, GrpcErrors.ToException(error).StatusCode);
    }

    [Fact]
    public void ShuttingDown_IsUnavailableWithRetryPushback()
    {
        var e = GrpcErrors.ToException(ServingError.FromEngine(new EngineError(EngineErrorCode.Unavailable, "The server is shutting down."), "req-1"));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal("5000", e.Trailers.GetValue(GrpcErrors.RetryPushbackTrailer));
        Assert.Equal("unavailable", e.Trailers.GetValue(GrpcErrors.CodeTrailer));
    }

    [Fact]
    public void Internal_KeepsTheGenericMessage()
    {
        var e = GrpcErrors.ToException(ServingError.FromEngine(new EngineError(EngineErrorCode.Internal, "forward failed"), "req-7"));
        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.Contains("req-7", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void MediaErrors_AreInvalidArgumentNamingThePart()
    {
        var e = GrpcErrors.ToException(ServingError.FromMedia(new MediaError(MediaErrorCodes.InvalidImage, "not an image"), "messages[0].content[0].media.data"));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal(MediaErrorCodes.InvalidImage, e.Trailers.GetValue(GrpcErrors.CodeTrailer));
        Assert.Equal("messages[0].content[0].media.data", e.Trailers.GetValue(GrpcErrors.ParamTrailer));
    }

    [Theory]
    [InlineData("modality_unavailable")]
    [InlineData("audio_format_unavailable")]
    public void WhatThisServerCannotDoInItsSetup_IsFailedPrecondition(string code)
    {
        var e = GrpcErrors.ToException(ServingError.InputUnavailable("no", "x", code));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Equal(code, e.Trailers.GetValue(GrpcErrors.CodeTrailer));
    }

    [Fact]
    public void TooLarge_IsResourceExhausted() =>
        Assert.Equal(StatusCode.ResourceExhausted, GrpcErrors.ToException(new ServingError(ServingErrorKind.TooLarge, "request_too_large", "too large")).StatusCode);

    [Fact]
    public void UnknownModel_IsNotFound() =>
        Assert.Equal(StatusCode.NotFound, GrpcErrors.ToException(ServingError.ModelNotFound("x")).StatusCode);
}
