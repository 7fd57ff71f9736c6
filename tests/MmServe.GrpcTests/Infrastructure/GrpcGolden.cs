using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using MmServe.Grpc.V1;

namespace MmServe.GrpcTests.Infrastructure;

/// <summary>
/// The bundle's golden cases as mmserve.v1 requests: the same messages, with every medium sent as raw bytes and
/// its MIME type instead of a data: URL or base64.
/// </summary>
public static class GrpcGolden
{
    /// <summary>Cases whose answer includes generated media (cases.json "generated"), by id and modality.</summary>
    public static IReadOnlyDictionary<string, string> GeneratedModality { get; } = LoadGenerated();

    /// <summary>
    /// Cases without video (text, image and audio in). The generated-media cases are among them and are compared
    /// on their tokens, which the model produces whatever output modalities are asked for; their generated
    /// image/audio joins the comparison once the server produces media over gRPC (see docs/grpc.md).
    /// </summary>
    public static IReadOnlyList<GoldenCase> WithoutVideo => GoldenCases.WithoutVideo;

    public static IReadOnlyList<GoldenCase> Video => GoldenCases.Video;

    public static ChatRequest ToRequest(GoldenCase golden)
    {
        var request = new ChatRequest
        {
            Model = golden.Model,
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = golden.MaxTokens },
            ReturnPromptTokenIds = true,
            RequestId = golden.Id,
        };
        foreach (var message in golden.Messages)
        {
            request.Messages.Add(ToMessage(message!.AsObject()));
        }

        return request;
    }

    /// <summary>An OpenAI chat request body (messages, temperature, max_tokens) as an mmserve.v1 request.</summary>
    public static ChatRequest FromOpenAi(JsonObject body, string requestId)
    {
        var request = new ChatRequest
        {
            Model = body["model"]!.GetValue<string>(),
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = body["max_tokens"]!.GetValue<int>() },
            ReturnPromptTokenIds = true,
            RequestId = requestId,
        };
        foreach (var message in body["messages"]!.AsArray())
        {
            request.Messages.Add(ToMessage(message!.AsObject()));
        }

        return request;
    }

    private static Message ToMessage(JsonObject message)
    {
        var result = new Message { Role = ToRole(message["role"]!.GetValue<string>()) };
        if (message["content"] is JsonArray parts)
        {
            foreach (var part in parts)
            {
                result.Content.Add(ToPart(part!.AsObject()));
            }
        }
        else
        {
            result.Content.Add(new ContentPart { Text = message["content"]!.GetValue<string>() });
        }

        return result;
    }

    private static ContentPart ToPart(JsonObject part) => part["type"]!.GetValue<string>() switch
    {
        "text" => new ContentPart { Text = part["text"]!.GetValue<string>() },
        "image_url" => FromDataUrl(part["image_url"]!["url"]!.GetValue<string>()),
        "video_url" => FromDataUrl(part["video_url"]!["url"]!.GetValue<string>()),
        "input_audio" => Media(
            part["input_audio"]!["format"]!.GetValue<string>() == "wav" ? "audio/wav" : "audio/mpeg",
            Convert.FromBase64String(part["input_audio"]!["data"]!.GetValue<string>())),
        "input_tensor" => new ContentPart
        {
            Tensor = new TensorInput
            {
                Modality = part["input_tensor"]!["modality"]!.GetValue<string>(),
                Npy = ByteString.CopyFrom(Convert.FromBase64String(part["input_tensor"]!["data"]!.GetValue<string>())),
            },
        },
        var other => throw new InvalidOperationException($"golden part type {other}"),
    };

    /// <summary>"data:image/png;base64,..." → image/png and the bytes.</summary>
    private static ContentPart FromDataUrl(string url)
    {
        var comma = url.IndexOf(',', StringComparison.Ordinal);
        var mime = url["data:".Length..url.IndexOf(';', StringComparison.Ordinal)];
        return Media(mime, Convert.FromBase64String(url[(comma + 1)..]));
    }

    public static ContentPart Media(string mimeType, byte[] bytes) =>
        new() { Media = new MediaInput { MimeType = mimeType, Data = ByteString.CopyFrom(bytes) } };

    public static Role ToRole(string role) => role switch
    {
        "system" => Role.System,
        "developer" => Role.Developer,
        "assistant" => Role.Assistant,
        _ => Role.User,
    };

    private static Dictionary<string, string> LoadGenerated()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Golden, "cases.json")));
        var generated = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (item.TryGetProperty("generated", out var media))
            {
                generated[item.GetProperty("id").GetString()!] = media.GetProperty("modality").GetString()!;
            }
        }

        return generated;
    }
}
