using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MmServe.Abstractions;

namespace MmServe.Engine.Tests;

public sealed class ForwardOutputTests
{
    private static SequenceInput Input(int tokens, bool hidden = false) =>
        new(1, new int[tokens], 0, [], hidden);

    [Fact]
    public void Prepare_SizesOneLogitsRowPerInput_AndHiddenRowsOnlyWhenWanted()
    {
        var output = new ForwardOutput();

        output.Prepare([Input(5, hidden: true), Input(1)], vocabSize: 10, hiddenSize: 3);

        Assert.Equal(2, output.RowCount);
        Assert.Equal(10, output.GetLogits(1).Length);
        Assert.Equal(15, output.GetHiddenStates(0).Length);
        Assert.Equal(0, output.GetHiddenStates(1).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => output.GetLogits(2));
    }

    [Fact]
    public void Prepare_ReusesItsBuffers_AndClearsStaleLogits()
    {
        var output = new ForwardOutput();
        output.Prepare([Input(1), Input(1), Input(1)], 8, 2);
        output.GetLogits(0).Fill(3f);
        ref float before = ref MemoryMarshal.GetReference(output.GetLogits(0));

        output.Prepare([Input(1)], 8, 2);

        Assert.True(Unsafe.AreSame(ref before, ref MemoryMarshal.GetReference(output.GetLogits(0))));
        Assert.All(output.GetLogits(0).ToArray(), v => Assert.Equal(0f, v));
    }
}
