using MmServe.Media.Images;
using MmServe.Serving.Errors;
using MmServe.Serving.Media;
using MmServe.Serving.Requests;

namespace MmServe.Serving.Florence2;

/// <summary>
/// How a chat request reaches Florence-2, which answers one image and one task text, not a conversation: exactly one
/// user message holding one image (a data: URL) and one text part — a task token such as "&lt;CAPTION&gt;" or
/// "&lt;OCR&gt;", a task token with its input, or free text (mapped as Florence2Processor maps them). Anything else
/// is a 400 naming the field.
/// </summary>
/// <param name="Image">The encoded image.</param>
/// <param name="ImageParam">Its field, for errors about the bytes.</param>
/// <param name="Text">The task text.</param>
public sealed record Florence2ChatInput(ReadOnlyMemory<byte> Image, string ImageParam, string Text)
{
    public static (Florence2ChatInput? Input, ServingError? Error) From(GenerationInput input, long maxImageBytes)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Messages is not { Count: > 0 } messages)
        {
            return (null, ServingError.Missing("messages"));
        }

        if (messages.Count != 1 || messages[0].Role != "user")
        {
            return (null, ServingError.Invalid(
                "Florence-2 models answer one user message (an image and a task such as \"<CAPTION>\"), not a conversation.",
                messages.Count != 1 ? "messages" : $"{messages[0].Param}.role", "unsupported_conversation"));
        }

        if (input.N is > 1)
        {
            return (null, ServingError.Invalid("n must be 1.", "n", "unsupported_value"));
        }

        var message = messages[0];
        var parts = message.Content ?? [];
        var images = parts.OfType<InputPart.Media>().ToList();
        var texts = parts.OfType<InputPart.Text>().ToList();
        if (images.Count != 1 || images[0].Modality != ServedModel.ImageModality || texts.Count != 1 || parts.Count != 2)
        {
            return (null, ServingError.Invalid(
                "A Florence-2 request's message holds exactly one image_url part and one text part (the task, e.g. \"<CAPTION>\").",
                $"{message.Param}.content", "invalid_content"));
        }

        var image = images[0];
        if (image.Kind != MediaSourceKind.DataUrl)
        {
            return (null, ServingError.Invalid("Florence-2 models take images as data: URLs.", image.SourceParam, "unsupported_media_source"));
        }

        var url = DataUrl.Parse(image.Source, maxImageBytes);
        return url.IsSuccess
            ? (new Florence2ChatInput(url.Value.Data, image.SourceParam, texts[0].Value), null)
            : (null, ServingError.FromMedia(url.Error!, image.SourceParam));
    }
}
