using System.Text.Json;
using MmServe.Grpc.V1;
using MmServe.Serving.Errors;
using MmServe.Serving.Structured;
using MmServe.Serving.Tools;

namespace MmServe.Api.Grpc;

/// <summary>
/// The gRPC shapes of structured output and tool calling (ResponseFormat, Tool, ToolChoice, ToolCall) to the
/// shared inputs the REST edge fills too. Schemas travel as JSON text; text that is not JSON is refused here,
/// naming the field. Answers' calls go back as ToolCall messages.
/// </summary>
internal static class GrpcToolMapper
{
    public static (ResponseFormatInput? Format, ServingError? Error) MapResponseFormat(ResponseFormat? format)
    {
        const string Param = "response_format";
        switch (format?.FormatCase)
        {
            case null or ResponseFormat.FormatOneofCase.None:
                return (null, null);
            case ResponseFormat.FormatOneofCase.JsonObject:
                return (new ResponseFormatInput(ResponseFormatInput.JsonObject, false, null, null, Param), null);
            default:
                var schema = format.JsonSchema;
                var (parsed, error) = ParseJson(schema.SchemaJson, $"{Param}.json_schema.schema_json");
                return error is null
                    ? (new ResponseFormatInput(ResponseFormatInput.JsonSchemaType, true, schema.Name, parsed, Param), null)
                    : (null, error);
        }
    }

    public static (IReadOnlyList<ToolInput>? Tools, ServingError? Error) MapTools(IReadOnlyList<Tool> tools)
    {
        var mapped = new List<ToolInput>(tools.Count);
        for (int i = 0; i < tools.Count; i++)
        {
            var (parameters, error) = ParseJson(tools[i].ParametersJson, $"tools[{i}].parameters_json");
            if (error is not null)
            {
                return (null, error);
            }

            mapped.Add(new ToolInput("function", tools[i].Name, string.IsNullOrEmpty(tools[i].Description) ? null : tools[i].Description, parameters, $"tools[{i}]"));
        }

        return (mapped.Count == 0 ? null : mapped, null);
    }

    public static ToolChoiceInput? MapToolChoice(ToolChoice? choice) => choice?.ChoiceCase switch
    {
        ToolChoice.ChoiceOneofCase.FunctionName => new ToolChoiceInput("function", choice.FunctionName),
        ToolChoice.ChoiceOneofCase.Mode => choice.Mode switch
        {
            ToolChoiceMode.Auto => new ToolChoiceInput("auto", null),
            ToolChoiceMode.None => new ToolChoiceInput("none", null),
            ToolChoiceMode.Required => new ToolChoiceInput("required", null),
            ToolChoiceMode.Unspecified => null,
            _ => new ToolChoiceInput(((int)choice.Mode).ToString(System.Globalization.CultureInfo.InvariantCulture), null),
        },
        _ => null,
    };

    public static IReadOnlyList<InputToolCall>? MapCalls(IReadOnlyList<ToolCall> calls, string param) => calls.Count == 0
        ? null
        : [.. calls.Select((call, i) => new InputToolCall(call.Id, "function", call.Name, call.ArgumentsJson, $"{param}.tool_calls[{i}]"))];

    public static ToolCall ToProto(ParsedToolCall call) => new() { Id = call.Id, Name = call.Name, ArgumentsJson = call.Arguments };

    public static ToolCallDelta? ToProto(ToolStreamEvent item) => item switch
    {
        ToolStreamEvent.CallStarted start => new ToolCallDelta { Index = start.Index, Id = start.Id, Name = start.Name },
        ToolStreamEvent.CallArguments arguments => new ToolCallDelta { Index = arguments.Index, Arguments = arguments.Text },
        _ => null,
    };

    private static (JsonElement? Value, ServingError? Error) ParseJson(string text, string param)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException)
        {
            return (null, ServingError.Invalid($"'{param}' is not valid JSON.", param, "invalid_value"));
        }
    }
}
