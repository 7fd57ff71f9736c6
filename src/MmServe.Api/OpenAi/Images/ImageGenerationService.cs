using Microsoft.Extensions.Options;
using MmServe.Abstractions;
using MmServe.Api.Errors;
using MmServe.Api.RateLimits;
using MmServe.Serving;
using MmServe.Serving.Models;
using MmServe.Serving.Generation;
using MmServe.Serving.Tasks;
using MmServe.Model.Chat;

namespace MmServe.Api.OpenAi.Images;

/// <summary>
/// POST /v1/images/generations: the prompt goes into the model's image prompt template as one user turn, each of
/// the n images is one greedy generation (run concurrently, so they share engine steps and generator runs), and
/// the images come back as base64 PNG. A reply in which the model drew nothing is a 400 naming what it said.
/// </summary>
internal sealed partial class ImageGenerationService(
    ModelRegistry models,
    IOptions<LimitsOptions> limits,
    IOptions<GenerationOptions> options,
    TimeProvider time,
    TokenBudgets budgets,
    ILogger<ImageGenerationService> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var (body, readError) = await JsonBodyReader.ReadAsync(
            context, OpenAiJsonContext.Wire.ImageGenerationRequest, limits.Value.MaxRequestBodyBytes, ct).ConfigureAwait(false);
        if (readError is not null)
        {
            return readError.ToResult();
        }

        // "model" is optional here (OpenAI defaults it): the first served model draws.
        var (instance, unknown) = body!.Model is { } id ? models.Resolve(id) : (models.Default, null);
        if (unknown is not null)
        {
            return ApiError.From(unknown).ToResult();
        }

        var (modality, size, n, validationError) = Validate(instance!, body);
        if (validationError is not null)
        {
            return validationError.ToResult();
        }

        var text = SingleTurnRunner.FillTemplate(modality!.Spec.PromptTemplate!, body!.Prompt!);
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = SingleTurnRunner.MaxAnswerTokens };
        var budget = budgets.For(context);
        var runs = Enumerable.Range(0, n).Select(i => instance!.Tasks.RunAsync(
            [new ChatPart.Text(text)], [], sampling, [modality], "prompt", $"{context.TraceIdentifier}-{i}", budget, ct)).ToArray();
        var results = await Task.WhenAll(runs).ConfigureAwait(false);

        var images = new List<GeneratedImageData>(n);
        int input = 0, output = 0;
        foreach (var (result, error) in results)
        {
            if (error is not null)
            {
                return ApiError.From(error).ToResult();
            }

            var image = result!.Media.FirstOrDefault(m => m.IsImage);
            if (image is null)
            {
                Log.NoImage(logger, context.TraceIdentifier, result.Text);
                return ApiError.InvalidRequest(
                    $"The model did not draw an image for this prompt; it answered: \"{result.Text.Trim()}\". Describe what to draw, e.g. \"a red circle\".",
                    "prompt",
                    "no_image_generated").ToResult();
            }

            images.Add(new GeneratedImageData(Convert.ToBase64String(image.ToPng())));
            input += result.Finished.PromptTokens;
            output += result.Finished.CompletionTokens;
        }

        var response = new ImageGenerationResponse(time.GetUtcNow().ToUnixTimeSeconds(), images, size!, "png", new ImageUsage(input, output, input + output));
        return TypedResults.Json(response, OpenAiJsonContext.Wire.ImageGenerationResponse);
    }

    private (OutputModality? Modality, string? Size, int N, ApiError? Error) Validate(ModelInstance model, ImageGenerationRequest request)
    {
        if (!model.Generator.Modalities.TryGetValue(ServedModel.ImageModality, out var modality) || modality.Spec.PromptTemplate is null || modality.Size is null)
        {
            return Fail(ApiError.InvalidRequest($"The model '{model.Id}' does not generate images.", "model", "unsupported_model"));
        }

        if (request.Prompt is null)
        {
            return Fail(ApiError.Missing("prompt"));
        }

        if (string.IsNullOrWhiteSpace(request.Prompt))
        {
            return Fail(ApiError.InvalidRequest("'prompt' must not be empty.", "prompt", "empty_string"));
        }

        int maxChars = options.Value.MaxInputChars;
        if (request.Prompt.Length > maxChars)
        {
            return Fail(ApiError.InvalidRequest(
                $"'prompt' is too long: {request.Prompt.Length} characters; the limit is {maxChars}.", "prompt", "string_above_max_length"));
        }

        int n = request.N ?? 1;
        int maxImages = options.Value.MaxImagesPerRequest;
        if (n < 1)
        {
            return Fail(ApiError.InvalidRequest("'n' must be at least 1.", "n", "invalid_value"));
        }

        if (n > maxImages)
        {
            return Fail(ApiError.InvalidRequest($"'n' is {n}; this server generates at most {maxImages} images per request.", "n", "integer_above_max_value"));
        }

        if (request.Size is { } size && size != "auto" && size != modality.Size)
        {
            return Fail(ApiError.InvalidRequest(
                $"Unsupported size '{size}'. This model draws images of size '{modality.Size}' (or pass 'auto').", "size", "unsupported_value"));
        }

        if (request.ResponseFormat is { } format && format != "b64_json")
        {
            return Fail(format == "url"
                ? ApiError.InvalidRequest("response_format 'url' is not supported: MmServe keeps no image store to link to. Use 'b64_json'.", "response_format", "unsupported_value")
                : ApiError.InvalidRequest($"Invalid response_format '{format}'; use 'b64_json'.", "response_format", "invalid_value"));
        }

        if (request.OutputFormat is { } output && output != "png")
        {
            return Fail(ApiError.InvalidRequest($"Unsupported output_format '{output}'; this server returns 'png'.", "output_format", "unsupported_value"));
        }

        return (modality, modality.Size, n, null);
    }

    private static (OutputModality?, string?, int, ApiError?) Fail(ApiError error) => (null, null, 0, error);

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "Image request {RequestId}: the model drew nothing; it answered \"{Answer}\".")]
        public static partial void NoImage(ILogger logger, string requestId, string answer);
    }
}
