using MmServe.Engine.Output;
using MmServe.Engine.Tests.Fakes;

namespace MmServe.Engine.Tests.Output;

public sealed class StopStringTests
{
    // Letter decoder: token n -> 'a' + n.
    private static TextOutputProcessor Processor(params string[] stops) =>
        new(new FakeTokenTextDecoder().CreateIncrementalDecoder(), stops);

    private static int T(char letter) => letter - 'a';

    [Fact]
    public void StopStringSplitAcrossTokens_IsNeverEmitted_AndEndsGeneration()
    {
        var processor = Processor("cde");

        Assert.Equal("a", processor.Push(T('a')));
        Assert.Equal("b", processor.Push(T('b')));
        Assert.Equal("", processor.Push(T('c')));
        Assert.Equal("", processor.Push(T('d')));
        Assert.False(processor.StopMatched);
        Assert.Equal("", processor.Push(T('e')));
        Assert.True(processor.StopMatched);
        Assert.Equal("", processor.Finish());
    }

    [Fact]
    public void HeldBackText_IsReleasedOnceItCannotStartAStopString()
    {
        var processor = Processor("cd");

        Assert.Equal("a", processor.Push(T('a')));
        Assert.Equal("", processor.Push(T('c')));
        Assert.Equal("cx", processor.Push(T('x')));
        Assert.False(processor.StopMatched);
    }

    [Fact]
    public void HeldBackText_IsReleasedWhenGenerationEndsForAnotherReason()
    {
        var processor = Processor("cd");

        Assert.Equal("a", processor.Push(T('a')));
        Assert.Equal("", processor.Push(T('c')));
        Assert.Equal("c", processor.Finish());
    }

    [Fact]
    public void TextBeforeAStopInsideOneToken_IsEmitted_AndTheRestDropped()
    {
        var pieces = new Dictionary<int, string> { [1] = "hello wor", [2] = "ld! more" };
        var processor = new TextOutputProcessor(new FakeTokenTextDecoder(new HashSet<int>(), id => pieces[id]).CreateIncrementalDecoder(), ["world"]);

        Assert.Equal("hello ", processor.Push(1));
        Assert.Equal("", processor.Push(2));
        Assert.True(processor.StopMatched);
    }

    [Fact]
    public void EarliestStopString_Wins()
    {
        var processor = Processor("de", "bc");

        var text = string.Concat("abcde".Select(c => processor.Push(T(c))));

        Assert.Equal("a", text);
        Assert.True(processor.StopMatched);
    }

    [Fact]
    public void WithoutStopStrings_TextPassesStraightThrough()
    {
        var processor = Processor();

        Assert.Equal("c", processor.Push(T('c')));
        Assert.Equal("d", processor.Push(T('d')));
        Assert.Equal("", processor.Finish());
    }
}
