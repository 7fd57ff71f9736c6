using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;
using MmServe.Serving.Tests.Fakes;

namespace MmServe.Serving.Tests.Requests;

/// <summary>The one rule set, straight on <see cref="GenerationInput"/>s, without any API in front.</summary>
public sealed class GenerationRulesTests
{
    private const string Png = "data:image/png;base64,iVBORw0KGgo=";

    private static GenerationRules Rules(MediaPolicy? policy = null) => new(TestModel.Model, policy ?? TestModel.Policy(), TestModel.Generator);

    private static GenerationInput Valid(params InputPart[] parts) => new()
    {
        Model = TestModel.Model.Id,
        Messages = [new InputMessage("user", parts.Length == 0 ? [new InputPart.Text("Hi", "messages[0].content")] : parts, "messages[0]")],
    };

    private static InputPart.Media Image(string source = Png, MediaSourceKind kind = MediaSourceKind.DataUrl, int part = 0) =>
        new("image", kind, source, null, $"messages[0].content[{part}].image_url.url", null, $"messages[0].content[{part}]");

    private static InputPart.Media Audio(string format) =>
        new("audio", MediaSourceKind.Base64, "UklGRg==", format, "messages[0].content[0].input_audio.data", "messages[0].content[0].input_audio.format", "messages[0].content[0]");

    public static TheoryData<string, GenerationInput, ServingErrorKind, string, string?> Refused()
    {
        var data = new TheoryData<string, GenerationInput, ServingErrorKind, string, string?>
        {
            { "no model", Valid() with { Model = null }, ServingErrorKind.InvalidRequest, "missing_required_parameter", "model" },
            { "unknown model", Valid() with { Model = "gpt-4o" }, ServingErrorKind.ModelNotFound, "model_not_found", "model" },
            { "no messages", Valid() with { Messages = null }, ServingErrorKind.InvalidRequest, "missing_required_parameter", "messages" },
            { "empty messages", Valid() with { Messages = [] }, ServingErrorKind.InvalidRequest, "invalid_value", "messages" },
            { "n = 0", Valid() with { N = 0 }, ServingErrorKind.InvalidRequest, "invalid_value", "n" },
            { "n = 2", Valid() with { N = 2 }, ServingErrorKind.InvalidRequest, "unsupported_value", "n" },
            { "no role", Valid() with { Messages = [new InputMessage(null, [new InputPart.Text("x", "p")], "messages[0]")] }, ServingErrorKind.InvalidRequest, "missing_required_parameter", "messages[0].role" },
            { "tool message without tool_call_id", Valid() with { Messages = [new InputMessage("tool", [new InputPart.Text("x", "p")], "messages[0]")] }, ServingErrorKind.InvalidRequest, "missing_required_parameter", "messages[0].tool_call_id" },
            { "deprecated function role", Valid() with { Messages = [new InputMessage("function", [new InputPart.Text("x", "p")], "messages[0]")] }, ServingErrorKind.InvalidRequest, "unsupported_value", "messages[0].role" },
            { "unknown role", Valid() with { Messages = [new InputMessage("robot", [new InputPart.Text("x", "p")], "messages[0]")] }, ServingErrorKind.InvalidRequest, "invalid_value", "messages[0].role" },
            { "user without content", Valid() with { Messages = [new InputMessage("user", null, "messages[0]")] }, ServingErrorKind.InvalidRequest, "missing_required_parameter", "messages[0].content" },
            { "image in an assistant turn", Valid() with { Messages = [new InputMessage("assistant", [Image()], "messages[0]")] }, ServingErrorKind.InvalidRequest, "invalid_value", "messages[0].content[0]" },
            { "remote url while remote media is off", Valid(Image("https://example.com/a.png", MediaSourceKind.Remote)), ServingErrorKind.InvalidRequest, "remote_media_disabled", "messages[0].content[0].image_url.url" },
            { "unknown audio container", Valid(Audio("aiff")), ServingErrorKind.InvalidRequest, "unsupported_audio_format", "messages[0].content[0].input_audio.format" },
            { "too many images", Valid(Image(part: 0), Image(part: 1), Image(part: 2)), ServingErrorKind.InvalidRequest, "too_many_images", "messages" },
            { "temperature above 2", Valid() with { Sampling = new() { Temperature = 2.5 } }, ServingErrorKind.InvalidRequest, "invalid_value", "temperature" },
            { "top_p 0", Valid() with { Sampling = new() { TopP = 0 } }, ServingErrorKind.InvalidRequest, "invalid_value", "top_p" },
            { "top_k -2", Valid() with { Sampling = new() { TopK = -2 } }, ServingErrorKind.InvalidRequest, "invalid_value", "top_k" },
            { "NaN presence penalty", Valid() with { Sampling = new() { PresencePenalty = double.NaN } }, ServingErrorKind.InvalidRequest, "invalid_value", "presence_penalty" },
            { "max_tokens 0", Valid() with { Sampling = new() { MaxTokens = 0 } }, ServingErrorKind.InvalidRequest, "invalid_value", "max_tokens" },
            { "unknown output modality", Valid() with { OutputModalities = ["text", "video"] }, ServingErrorKind.InvalidRequest, "unsupported_value", "modalities[1]" },
            { "empty output modalities", Valid() with { OutputModalities = [] }, ServingErrorKind.InvalidRequest, "invalid_value", "modalities" },
            { "audio output without settings", Valid() with { OutputModalities = ["audio"] }, ServingErrorKind.InvalidRequest, "missing_required_parameter", "audio" },
            { "unknown voice", Valid() with { OutputModalities = ["audio"], Audio = new("alloy", "wav") }, ServingErrorKind.InvalidRequest, "unsupported_value", "audio.voice" },
            { "mp3 audio output", Valid() with { OutputModalities = ["audio"], Audio = new(TestModel.Generator.Modalities["audio"].Voices[0], "mp3") }, ServingErrorKind.InvalidRequest, "unsupported_value", "audio.format" },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void InvalidRequest_IsRefusedWithItsKindCodeAndField(string what, GenerationInput input, ServingErrorKind kind, string code, string? param)
    {
        var rules = Rules(TestModel.Policy(maxImages: 2));
        var (request, error) = rules.Validate(input);
        Assert.Null(request);
        Assert.NotNull(error);
        Assert.True((kind, code, param) == (error.Kind, error.Code, error.Param), $"{what}: got {error}");
    }

    [Fact]
    public void ModalityTheServerCannotDecode_IsInputUnavailableWithTheReason()
    {
        var policy = TestModel.Policy(unavailable: new Dictionary<string, string> { ["video"] = "Video input needs ffmpeg, which was not found." });
        var video = new InputPart.Media("video", MediaSourceKind.DataUrl, "data:video/mp4;base64,AAAA", null, "messages[0].content[0].video_url.url", null, "messages[0].content[0]");
        var (_, error) = Rules(policy).Validate(Valid(video));
        Assert.Equal((ServingErrorKind.InputUnavailable, "modality_unavailable", "messages[0].content[0]"), (error!.Kind, error.Code, error.Param));
        Assert.Contains("ffmpeg", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AudioContainerNeedingAMissingTool_IsInputUnavailable()
    {
        var (_, error) = Rules(TestModel.Policy(ffmpeg: false)).Validate(Valid(Audio("flac")));
        Assert.Equal((ServingErrorKind.InputUnavailable, "audio_format_unavailable", "messages[0].content[0].input_audio.format"), (error!.Kind, error.Code, error.Param));
    }

    [Fact]
    public void ModalityTheModelDoesNotTake_IsAnUnsupportedContentType()
    {
        var policy = new MediaPolicy(new Dictionary<string, int> { ["audio"] = 4 }, new Dictionary<string, string>(), new HashSet<string> { "wav" }, false);
        var (_, error) = Rules(policy).Validate(Valid(Image()));
        Assert.Equal((ServingErrorKind.InvalidRequest, "unsupported_content_type"), (error!.Kind, error.Code));
    }

    [Fact]
    public void SamplingFields_AreNamedAsTheClientsApiNamesThem()
    {
        var input = Valid() with { Sampling = new() { TopP = 5, MaxTokens = 0 }, Fields = RequestFieldNames.Grpc };
        Assert.Equal("sampling.top_p", Rules().Validate(input).Error!.Param);
        var maxTokens = Valid() with { Sampling = new() { MaxTokens = 0 }, Fields = RequestFieldNames.OpenAi("max_completion_tokens") };
        var error = Rules().Validate(maxTokens).Error!;
        Assert.Equal("max_completion_tokens", error.Param);
        Assert.Contains("max_completion_tokens", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TopKMinusOne_MeansDisabled()
    {
        var (request, error) = Rules().Validate(Valid() with { Sampling = new() { TopK = -1 } });
        Assert.Null(error);
        Assert.Equal(0, request!.Sampling.TopK);
    }

    [Fact]
    public void ValidRequest_BecomesTurnsWithNumberedMediaAndDefaults()
    {
        var input = Valid(new InputPart.Text("Look:", "messages[0].content[0]"), Image(part: 1), Audio("wav") with { Param = "messages[0].content[2]" });
        var (request, error) = Rules().Validate(input);
        Assert.Null(error);
        var turn = Assert.Single(request!.Conversation);
        Assert.Equal("user", turn.Role);
        Assert.Equal(3, turn.Parts.Count);
        Assert.Equal(["image", "audio"], request.Media.Select(m => m.Modality));
        Assert.Equal("messages[0].content[1].image_url.url", request.Media[0].Param);
        Assert.Equal(1f, request.Sampling.Temperature);
        Assert.False(request.Outputs.Any);
    }

    [Fact]
    public void AssistantTurnWithoutContent_IsAllowed()
    {
        var input = Valid() with
        {
            Messages = [new InputMessage("user", [new InputPart.Text("Hi", "p")], "messages[0]"), new InputMessage("assistant", null, "messages[1]")],
        };
        Assert.Null(Rules().Validate(input).Error);
    }

    [Fact]
    public void ServerDefaultAudio_TakesTheFirstVoiceAsWav()
    {
        var (request, error) = Rules().Validate(Valid() with { OutputModalities = ["audio", "image"], Audio = AudioOutputInput.ServerDefault });
        Assert.Null(error);
        Assert.Equal(TestModel.Generator.Modalities["audio"].Voices[0], request!.Outputs.Audio!.Voice);
        Assert.Equal("wav", request.Outputs.Audio.Format);
        Assert.True(request.Outputs.WantsImages);
    }
}
