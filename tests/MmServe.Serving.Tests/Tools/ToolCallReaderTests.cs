using MmServe.Serving.Tools;

namespace MmServe.Serving.Tests.Tools;

public sealed class ToolCallReaderTests
{
    private const string Hermes = "<tool_call>\n{\"name\": \"zoom\", \"arguments\": {\"region\": \"top_left\", \"factor\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"count_shapes\", \"arguments\": {\"color\": \"red\"}}\n</tool_call>";

    [Fact]
    public void HermesBlocks_BecomeCallsWithTheArgumentsAsWritten()
    {
        var parsed = ToolCallReader.Parse(ToolCallFormat.Hermes, Hermes);

        Assert.Null(parsed.Content);
        Assert.Equal([("zoom", """{"region": "top_left", "factor": 2}"""), ("count_shapes", """{"color": "red"}""")], parsed.ToolCalls.Select(c => (c.Name, c.Arguments)));
        Assert.All(parsed.ToolCalls, c => Assert.StartsWith("call_", c.Id));
        Assert.NotEqual(parsed.ToolCalls[0].Id, parsed.ToolCalls[1].Id);
    }

    [Fact]
    public void TextAroundHermesCalls_IsContent()
    {
        var parsed = ToolCallReader.Parse(ToolCallFormat.Hermes, "Let me look.\n" + Hermes);

        Assert.Equal("Let me look.", parsed.Content);
        Assert.Equal(2, parsed.ToolCalls.Count);
    }

    [Theory]
    [InlineData(ToolCallFormat.Hermes, "<tool_call>\n{\"name\": \"zoom\", \"arguments\": {\"region\": \"x\"\n</tool_call>")]
    [InlineData(ToolCallFormat.Hermes, "<tool_call>not json</tool_call> and more")]
    [InlineData(ToolCallFormat.Llama3Json, "{\"answer\": 42}")]
    [InlineData(ToolCallFormat.Llama3Json, "{\"name\": \"Bob\", \"age\": 3}")]
    [InlineData(ToolCallFormat.Mistral, "[1, 2, 3]")]
    [InlineData(ToolCallFormat.Llama3Json, "Plain words, { not a call")]
    public void WhatIsNotAWholeCall_StaysContent_Unchanged(ToolCallFormat format, string text)
    {
        var parsed = ToolCallReader.Parse(format, text);

        Assert.Empty(parsed.ToolCalls);
        Assert.Equal(text, parsed.Content);
    }

    [Fact]
    public void Llama3Json_ReadsParametersAndSemicolonSeparatedCalls()
    {
        var parsed = ToolCallReader.Parse(ToolCallFormat.Llama3Json, "<|python_tag|>{\"name\": \"zoom\", \"parameters\": {\"factor\": 3}}; {\"name\": \"count_shapes\", \"arguments\": {}}");

        Assert.Equal([("zoom", """{"factor": 3}"""), ("count_shapes", "{}")], parsed.ToolCalls.Select(c => (c.Name, c.Arguments)));
    }

    [Fact]
    public void Mistral_ReadsTheCallArray()
    {
        var parsed = ToolCallReader.Parse(ToolCallFormat.Mistral, "[TOOL_CALLS] [{\"name\": \"zoom\", \"arguments\": {\"factor\": 1}}]");

        Assert.Equal("zoom", Assert.Single(parsed.ToolCalls).Name);
    }

    [Theory]
    [InlineData(ToolCallFormat.Hermes, "Sure. " + Hermes)]
    [InlineData(ToolCallFormat.Llama3Json, "{\"name\": \"zoom\", \"parameters\": {\"factor\": 3}}")]
    [InlineData(ToolCallFormat.Hermes, "No calls here, just < and <tool text.")]
    public void SplitAtEveryPosition_StreamingGivesTheSameContentAndCalls(ToolCallFormat format, string text)
    {
        var whole = ToolCallReader.Parse(format, text);
        for (int split = 0; split <= text.Length; split++)
        {
            var reader = new ToolCallReader(format);
            var events = reader.Push(text[..split]).Concat(reader.Push(text[split..])).Concat(reader.Finish()).ToList();

            var content = string.Concat(events.OfType<ToolStreamEvent.Content>().Select(c => c.Text));
            Assert.Equal(whole.Content ?? "", whole.ToolCalls.Count > 0 ? content.Trim() : content);
            var names = events.OfType<ToolStreamEvent.CallStarted>().Select(c => c.Name);
            Assert.Equal(whole.ToolCalls.Select(c => c.Name), names);
            Assert.Equal(whole.ToolCalls.Select(c => c.Arguments), events.OfType<ToolStreamEvent.CallArguments>().Select(a => a.Text));
            // No content between calls, and the call's name comes before its arguments.
            Assert.DoesNotContain(events.SkipWhile(e => e is not ToolStreamEvent.CallStarted), e => e is ToolStreamEvent.Content c && string.IsNullOrWhiteSpace(c.Text));
        }
    }

    [Theory]
    [InlineData(null, "{%- if tools %}<tool_call>{% endif %}", ToolCallFormat.Hermes)]
    [InlineData(null, "{\"name\": function name, \"parameters\": dictionary}", ToolCallFormat.Llama3Json)]
    [InlineData(null, "[TOOL_CALLS]", ToolCallFormat.Mistral)]
    [InlineData(null, "", ToolCallFormat.Hermes)]
    [InlineData("mistral", "<tool_call>", ToolCallFormat.Mistral)]
    public void Format_IsConfiguredOrRecognisedFromTheTemplate(string? configured, string template, ToolCallFormat expected)
    {
        Assert.Equal(expected, ToolCallFormats.Resolve(configured, template));
    }

    [Fact]
    public void ForcedHermesCalls_StreamTheirArgumentsAsTheyAreWritten_AndAgreeWithTheWholeParse()
    {
        var whole = ToolCallReader.Parse(ToolCallFormat.Hermes, Hermes);
        for (int chunk = 1; chunk <= 7; chunk++)
        {
            var reader = new ToolCallReader(ToolCallFormat.Hermes, streamArguments: true);
            var events = Enumerable.Range(0, (Hermes.Length + chunk - 1) / chunk)
                .SelectMany(i => reader.Push(Hermes.Substring(i * chunk, Math.Min(chunk, Hermes.Length - i * chunk))).ToList())
                .Concat(reader.Finish()).ToList();

            Assert.Empty(events.OfType<ToolStreamEvent.Content>());
            Assert.Equal(whole.ToolCalls.Select(c => c.Name), events.OfType<ToolStreamEvent.CallStarted>().Select(c => c.Name));
            var arguments = events.OfType<ToolStreamEvent.CallArguments>().GroupBy(a => a.Index).ToList();
            Assert.Equal(whole.ToolCalls.Select(c => c.Arguments), arguments.Select(g => string.Concat(g.Select(a => a.Text))));
            // Small pushes give several pieces: the arguments are not held back to the end of the call.
            Assert.True(chunk > 3 || arguments[0].Count() > 3);
            // Each call's name comes before its first arguments piece.
            Assert.All(arguments, g => Assert.True(
                events.FindIndex(e => e is ToolStreamEvent.CallStarted s && s.Index == g.Key) < events.IndexOf(g.First())));
        }
    }

    [Fact]
    public void StreamedArguments_KeepBracesInsideStrings()
    {
        const string text = "<tool_call>\n{\"name\": \"say\", \"arguments\": {\"text\": \"a } b \\\" { c\"}}\n</tool_call>";
        var reader = new ToolCallReader(ToolCallFormat.Hermes, streamArguments: true);

        var events = text.Select(c => c.ToString()).SelectMany(reader.Push).Concat(reader.Finish()).ToList();

        Assert.Equal("""{"text": "a } b \" { c"}""", string.Concat(events.OfType<ToolStreamEvent.CallArguments>().Select(a => a.Text)));
    }
}
