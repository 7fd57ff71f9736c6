using System.Buffers.Binary;
using System.Net;
using System.Text.Json.Nodes;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests.Families;

/// <summary>
/// input_tensor parts that do not fit the model's declared tensor are 400s in OpenAI's error shape naming the problem,
/// never 500s: wrong dtype, shape, size, non-finite or out-of-range values, malformed .npy headers, bad base64, a
/// modality no model has and one this model does not declare. A well-formed tensor of the same request is then served.
/// </summary>
public sealed class TensorInputErrorTests(VisualExpertTensorServerFixture server) : IClassFixture<VisualExpertTensorServerFixture>
{
    private static readonly long[] DepthShape = [1, 32, 32];

    /// <summary>A depth map the model accepts: 5 m everywhere.</summary>
    private static byte[] GoodDepth() => NpyWriter.Float32(DepthShape, _ => 5f);

    public static TheoryData<string, byte[], string> BadArrays => new()
    {
        // Half the elements, so the file is no larger than an accepted one and the dtype is what is refused.
        { "float64", NpyWriter.Write("<f8", false, [1, 32, 16], new byte[512 * 8]), "dtype" },
        { "float64 of the full shape: over the byte limit", NpyWriter.Write("<f8", false, DepthShape, new byte[1024 * 8]), "bytes" },
        { "big-endian float32", NpyWriter.Write(">f4", false, DepthShape, new byte[1024 * 4]), "dtype" },
        { "wrong shape", NpyWriter.Float32([1, 16, 16], _ => 5f), "shape" },
        { "wrong rank", NpyWriter.Float32([32, 32], _ => 5f), "shape" },
        { "data shorter than the shape", GoodDepth()[..^4], "bytes" },
        { "data longer than the shape", [.. GoodDepth(), 0, 0, 0, 0], "bytes" },
        { "NaN", NpyWriter.Float32(DepthShape, i => i == 7 ? float.NaN : 5f), "NaN" },
        { "infinity", NpyWriter.Float32(DepthShape, i => i == 9 ? float.PositiveInfinity : 5f), "infinite" },
        { "value out of range", NpyWriter.Float32(DepthShape, i => i == 3 ? 0f : 5f), "range" },
        { "truncated header", GoodDepth()[..40], "truncated" },
        { "truncated magic", GoodDepth()[..4], "magic" },
        { "wrong magic", [.. "PNUMPY"u8.ToArray(), .. GoodDepth()[6..]], "magic" },
        { "fortran order", NpyWriter.Write("<f4", true, DepthShape, new byte[1024 * 4]), "Fortran" },
        { "unsupported version 3.0", NpyWriter.Write("<f4", false, DepthShape, new byte[1024 * 4], major: 3), "version" },
        { "garbled header dict", Garble(GoodDepth()), "header" },
        { "a PNG instead of .npy", TestImages.SolidPng(8, 8, 1, 2, 3), "npy" },
    };

    [Theory]
    [MemberData(nameof(BadArrays))]
    public async Task BadArray_Is400_NamingTheProblem(string what, byte[] npy, string named)
    {
        using var response = await Chat.PostAsync(server.Client, Request("tiny-imagebind", "depth", Convert.ToBase64String(npy)));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, param: "messages[0].content[0].input_tensor.data");
        Assert.True(error.GetProperty("message").GetString()!.Contains(named, StringComparison.OrdinalIgnoreCase), $"{what}: {error}");
    }

    [Fact]
    public async Task BadBase64_Is400()
    {
        using var response = await Chat.PostAsync(server.Client, Request("tiny-imagebind", "depth", "not base64!"));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, code: "invalid_tensor");
        Assert.Contains("base64", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("tiny-imagebind", "thermal")]
    [InlineData("tiny-cogvlm", "depth")]
    [InlineData("mmserve-tiny", "imu")]
    public async Task ModalityTheModelDoesNotDeclare_Is400(string model, string modality)
    {
        using var response = await Chat.PostAsync(server.Client, Request(model, modality, Convert.ToBase64String(GoodDepth())));
        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, code: "unsupported_content_type");
        Assert.Contains(modality, error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("""{"type":"input_tensor"}""", "messages[0].content[0].input_tensor")]
    [InlineData("""{"type":"input_tensor","input_tensor":"x"}""", "messages[0].content[0].input_tensor")]
    [InlineData("""{"type":"input_tensor","input_tensor":{"data":"AA=="}}""", "messages[0].content[0].input_tensor.modality")]
    [InlineData("""{"type":"input_tensor","input_tensor":{"modality":"depth"}}""", "messages[0].content[0].input_tensor.data")]
    [InlineData("""{"type":"input_tensor","input_tensor":{"modality":"depth","data":5}}""", "messages[0].content[0].input_tensor.data")]
    public async Task MalformedPart_Is400_NamingTheField(string part, string param)
    {
        var body = $$"""{"model":"tiny-imagebind","messages":[{"role":"user","content":[{{part}}]}]}""";
        using var response = await Chat.PostRawAsync(server.Client, body);
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, param: param);
    }

    [Fact]
    public async Task GoodDepthMap_IsServed()
    {
        using var response = await Chat.PostAsync(server.Client, Request("tiny-imagebind", "depth", Convert.ToBase64String(GoodDepth())));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static JsonObject Request(string model, string modality, string data) => new()
    {
        ["model"] = model,
        ["max_tokens"] = 4,
        ["messages"] = new JsonArray(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(
                new JsonObject { ["type"] = "input_tensor", ["input_tensor"] = new JsonObject { ["modality"] = modality, ["data"] = data } },
                new JsonObject { ["type"] = "text", ["text"] = "How many objects are in the depth map?" }),
        }),
    };

    /// <summary>The header's dict with its closing brace removed (same length: a space in its place).</summary>
    private static byte[] Garble(byte[] npy)
    {
        var copy = (byte[])npy.Clone();
        int length = BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan(8));
        int brace = Array.LastIndexOf(copy, (byte)'}', 10 + length);
        copy[brace] = (byte)' ';
        return copy;
    }
}
