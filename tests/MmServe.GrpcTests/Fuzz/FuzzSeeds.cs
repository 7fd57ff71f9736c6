using System.Text.Json.Nodes;
using Google.Protobuf;
using MmServe.Grpc.V1;
using MmServe.Serving;

namespace MmServe.GrpcTests.Fuzz;

/// <summary>Valid requests of every kind the fuzzer starts from (small max_tokens, tiny media, so mutants that stay valid are cheap).</summary>
internal static class FuzzSeeds
{
    public static readonly byte[] Wav = Convert.FromBase64String(SampleAudio.TwoBeepsWavBase64);

    /// <summary>(path, body) of the JSON endpoints.</summary>
    public static (string Path, JsonObject Body)[] Json() =>
    [
        ("v1/chat/completions", Chat.Request("Count to three.", 2)),
        ("v1/chat/completions", new JsonObject
        {
            ["model"] = Chat.Model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "Be brief." },
                new JsonObject
                {
                    ["role"] = "user",
                    ["content"] = new JsonArray(
                        new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = SampleImage.RedSquareDataUrl, ["detail"] = "low" } },
                        new JsonObject { ["type"] = "text", ["text"] = "What colour?" }),
                }),
            ["max_tokens"] = 2,
            ["temperature"] = 0.5,
            ["top_p"] = 0.9,
            ["stop"] = new JsonArray("\n", "."),
            ["seed"] = 7,
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        }),
        ("v1/chat/completions", new JsonObject
        {
            ["model"] = Chat.Model,
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "input_audio", ["input_audio"] = new JsonObject { ["data"] = SampleAudio.TwoBeepsWavBase64, ["format"] = "wav" } },
                    new JsonObject { ["type"] = "text", ["text"] = "What do you hear?" }),
            }),
            ["max_completion_tokens"] = 2,
            ["logprobs"] = true,
            ["top_logprobs"] = 2,
        }),
        ("v1/images/generations", new JsonObject { ["model"] = Chat.Model, ["prompt"] = "a red circle", ["n"] = 1, ["response_format"] = "b64_json" }),
        ("v1/audio/speech", new JsonObject { ["model"] = Chat.Model, ["input"] = "one low beep", ["voice"] = "default", ["response_format"] = "wav" }),
    ];

    /// <summary>A transcription form: (name, value) fields and the file.</summary>
    public static (string Name, byte[] Value)[] TranscriptionFields() =>
    [
        ("model", "mmserve-tiny"u8.ToArray()),
        ("prompt", "Transcribe the audio."u8.ToArray()),
        ("response_format", "json"u8.ToArray()),
        ("temperature", "0"u8.ToArray()),
    ];

    /// <summary>(service, method, streaming, valid request bytes) of every gRPC method a client can call without waiting forever.</summary>
    public static (string Service, string Method, bool Streaming, byte[] Valid)[] Grpc()
    {
        var chat = new ChatRequest
        {
            Model = Chat.Model,
            Messages =
            {
                new Message
                {
                    Role = Role.User,
                    Content =
                    {
                        new ContentPart { Media = new MediaInput { MimeType = "image/png", Data = ByteString.FromBase64(SampleImage.RedSquarePngBase64) } },
                        new ContentPart { Text = "What colour?" },
                    },
                },
            },
            Sampling = new SamplingParams { Temperature = 0, MaxTokens = 2, Stop = { "." } },
        }.ToByteArray();
        return
        [
            ("mmserve.v1.ChatService", "Chat", false, chat),
            ("mmserve.v1.ChatService", "StreamChat", true, chat),
            ("mmserve.v1.ModelService", "ListModels", false, new ListModelsRequest().ToByteArray()),
            ("mmserve.v1.ModelService", "GetModel", false, new GetModelRequest { Id = Chat.Model }.ToByteArray()),
            ("grpc.health.v1.Health", "Check", false, [0x0A, 0x00]),
        ];
    }
}
