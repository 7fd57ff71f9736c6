using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MmServe.FunctionalTests.Infrastructure;

namespace MmServe.FunctionalTests;

/// <summary>
/// JSON must be UTF-8 (RFC 8259 §8.1), and a string holding bytes that are not — or a \u escape naming half a
/// surrogate pair — is the client's error on every REST endpoint: a 400 with code invalid_utf8 naming the field,
/// streamed or not, never a 500 and never "invalid_type". "@@" in each body marks where the bad bytes go.
/// </summary>
public sealed class InvalidUtf8Tests(ServerFixture server) : IClassFixture<ServerFixture>, IDisposable
{
    private const string ChatPath = "v1/chat/completions";
    private const string ImagesPath = "v1/images/generations";
    private const string SpeechPath = "v1/audio/speech";

    private readonly int _logMark = server.Factory.Logs.Entries.Count;

    public void Dispose() => Assert.Empty(server.Factory.Logs.ErrorsWithExceptions(_logMark));

    public static TheoryData<string, string, string?> Fields => new()
    {
        { ChatPath, """{"model":"mmserve-tiny","messages":[{"role":"user","content":"hi @@"}],"max_tokens":4}""", "messages[0].content" },
        { ChatPath, """{"model":"mmserve-tiny","messages":[{"role":"user","content":"hi @@"}],"max_tokens":4,"stream":true}""", "messages[0].content" },
        { ChatPath, """{"model":"mmserve-tiny","messages":[{"role":"user","content":[{"type":"text","text":"hi @@"}]}],"max_tokens":4}""", "messages[0].content[0].text" },
        { ChatPath, """{"model":"mmserve-tiny","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,@@"}},{"type":"text","text":"x"}]}]}""", "messages[0].content[0].image_url.url" },
        { ChatPath, """{"model":"mmserve-tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"stop":"@@"}""", "stop" },
        { ChatPath, """{"model":"mmserve-tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"stream":true,"stop":["ok","@@"]}""", "stop[1]" },
        { ChatPath, """{"model":"mmserve-tiny@@","messages":[{"role":"user","content":"hi"}],"max_tokens":4}""", "model" },
        { ChatPath, """{"model":"mmserve-tiny","messages":[{"role":"us@@er","content":"hi"}],"max_tokens":4}""", "messages[0].role" },
        { ChatPath, """{"model":"mmserve-tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"user":"@@"}""", "user" },
        { ChatPath, """{"model":"mmserve-tiny","messages":[{"role":"user","content":"hi","n@@":1}],"max_tokens":4}""", "messages[0]" },
        { ImagesPath, """{"model":"mmserve-tiny","prompt":"a red circle @@"}""", "prompt" },
        { SpeechPath, """{"model":"mmserve-tiny","input":"two high beeps @@","voice":"default"}""", "input" },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task InvalidUtf8InAnyString_Is400NamingTheField(string path, string template, string? param)
    {
        using var response = await PostAsync(path, Body(template, [0x68, 0xFF, 0xFE, 0x69]));

        var error = await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, code: "invalid_utf8");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains("UTF-8", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[]> BadSequences => new()
    {
        { "a byte that never starts a character", [0xFF] },
        { "a lead byte without its continuation", [0xC3] },
        { "a continuation byte alone", [0x80] },
        { "an overlong encoding of '/'", [0xC0, 0xAF] },
        { "an encoded surrogate", [0xED, 0xA0, 0x80] },
        { "a code point above U+10FFFF", [0xF4, 0x90, 0x80, 0x80] },
        { "an unpaired high surrogate escape", "\\ud800"u8.ToArray() },
        { "an unpaired low surrogate escape", "\\udc00x"u8.ToArray() },
        { "surrogate escapes in the wrong order", "\\udc00\\ud800"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(BadSequences))]
    public async Task EveryKindOfBadSequence_Is400InvalidUtf8(string what, byte[] bad)
    {
        var template = """{"model":"mmserve-tiny","messages":[{"role":"user","content":[{"type":"text","text":"hi @@ there"}]}],"max_tokens":4}""";

        using var response = await PostAsync(ChatPath, Body(template, bad));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {body}");
        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "messages[0].content[0].text", "invalid_utf8");
    }

    [Fact]
    public async Task ValidUtf8AndPairedSurrogateEscapes_AreStillAccepted()
    {
        // Four-byte UTF-8 (an emoji), the same character as an escaped surrogate pair, and an escaped U+FFFD.
        var body = Body("""{"model":"mmserve-tiny","messages":[{"role":"user","content":"caf\u00e9 @@ \ud83d\ude00 \ufffd"}],"max_tokens":2}""", "😀"u8.ToArray());

        using var response = await PostAsync(ChatPath, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TranscriptionFormFieldWithInvalidUtf8_Is400NamingTheField()
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(TranscriptionCases.AudioBytes(TranscriptionCases.Default));
        file.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        form.Add(file, "file", "clip.wav");
        form.Add(new StringContent(Chat.Model), "model");
        form.Add(new ByteArrayContent([0x68, 0xFF, 0xFE, 0x69]), "prompt");

        using var response = await server.Client.PostAsync("v1/audio/transcriptions", form);

        await ErrorAssert.IsOpenAiErrorAsync(response, HttpStatusCode.BadRequest, "prompt", "invalid_utf8");
    }

    [Fact]
    public async Task AfterInvalidUtf8_TheServerStillAnswers()
    {
        using (await PostAsync(ChatPath, Body("""{"model":"mmserve-tiny","messages":[{"role":"user","content":"@@"}]}""", [0xFF])))
        {
        }

        using var response = await Chat.PostAsync(server.Client, Chat.Request("Hello!", 2));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>The template's UTF-8 with "@@" replaced by <paramref name="bad"/>, byte for byte.</summary>
    private static byte[] Body(string template, byte[] bad)
    {
        var parts = template.Split("@@");
        Assert.Equal(2, parts.Length);
        return [.. Encoding.UTF8.GetBytes(parts[0]), .. bad, .. Encoding.UTF8.GetBytes(parts[1])];
    }

    private Task<HttpResponseMessage> PostAsync(string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return server.Client.PostAsync(path, content);
    }
}
