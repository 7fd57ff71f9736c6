using MmServe.Serving.Errors;
using MmServe.Serving.Generation;
using MmServe.Serving.Media;
using MmServe.Serving.Structured;
using MmServe.Serving.Tools;

namespace MmServe.Serving.Requests;

/// <summary>
/// The one set of rules every API's generation request passes, cheapest first and before any media is read: the
/// model, the messages and their media (<see cref="MessageRules"/>), n, sampling (<see cref="SamplingRules"/>),
/// then output modalities (<see cref="OutputRules"/>) and the response format (<see cref="ResponseFormatRules"/>). The first broken rule is the answer.
/// </summary>
public sealed class GenerationRules(ServedModel model, MediaPolicy media, IMediaGenerator generator)
{
    public (ValidatedRequest? Request, ServingError? Error) Validate(GenerationInput input)
    {
        if ((CheckModel(input.Model) ?? CheckMessagesPresent(input.Messages) ?? CheckN(input.N)) is { } early)
        {
            return (null, early);
        }

        var messages = new MessageRules(media);
        if (messages.Apply(input.Messages!) is { } messageError)
        {
            return (null, messageError);
        }

        var (sampling, samplingError) = SamplingRules.Apply(input.Sampling, input.Fields, model.SamplingDefaults);
        if (samplingError is not null)
        {
            return (null, samplingError);
        }

        var (outputs, outputError) = OutputRules.Apply(input.OutputModalities, input.Audio, generator.Modalities, input.Fields);
        if (outputError is not null)
        {
            return (null, outputError);
        }

        var (constraint, formatError) = ResponseFormatRules.Apply(input.ResponseFormat, model.Constraints);
        if (formatError is not null)
        {
            return (null, formatError);
        }

        var (tools, toolError) = ToolRules.Apply(input.Tools, input.ToolChoice, input.ParallelToolCalls, model.ToolCallFormat, model.Constraints);
        if (toolError is not null)
        {
            return (null, toolError);
        }

        if (tools?.Forced is not null && constraint is not null)
        {
            return (null, ServingError.Invalid(
                "A forced tool call (tool_choice 'required' or a named function) cannot be combined with a JSON response_format.", "response_format", "invalid_value"));
        }

        return (new ValidatedRequest(messages.Conversation, messages.Media, sampling!, outputs!)
        {
            MaxTokensParam = input.Fields.MaxTokens,
            Constraint = tools?.Forced ?? constraint,
            // An answer constrained to the client's JSON schema is that JSON, never a call (Llama 3 calls are JSON too).
            Tools = constraint is not null && tools is not null ? tools with { ReadsCalls = false } : tools,
        }, null);
    }

    /// <summary>The model field of any request: present and the one served.</summary>
    public ServingError? CheckModel(string? requested, string param = "model")
    {
        if (string.IsNullOrEmpty(requested))
        {
            return ServingError.Missing(param);
        }

        return string.Equals(requested, model.Id, StringComparison.Ordinal) ? null : ServingError.ModelNotFound(requested, param);
    }

    private static ServingError? CheckMessagesPresent(IReadOnlyList<InputMessage>? messages) => messages switch
    {
        null => ServingError.Missing("messages"),
        { Count: 0 } => ServingError.Invalid("'messages' must contain at least one message.", "messages", "invalid_value"),
        _ => null,
    };

    private static ServingError? CheckN(int? n) => n switch
    {
        null or 1 => null,
        < 1 => ServingError.Invalid("'n' must be at least 1.", "n", "invalid_value"),
        _ => ServingError.Invalid("Only n = 1 is supported; send several requests for several choices.", "n", "unsupported_value"),
    };
}
