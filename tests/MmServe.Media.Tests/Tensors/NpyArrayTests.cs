using System.Text;
using MmServe.Media.Tensors;
using NpyArray = MmServe.Media.Tensors.NpyArray;

namespace MmServe.Media.Tests.Tensors;

/// <summary>
/// .npy headers as numpy writes them (versions 1.0 and 2.0, any key order, 1-d and 0-d shapes) parse; every other
/// header is a MediaError that names what is wrong, never an exception.
/// </summary>
public sealed class NpyArrayTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Versions_1_and_2_parse(byte major)
    {
        var npy = NpyWriter.Write("<f4", false, [2, 3], new byte[24], major);
        var header = NpyArray.ReadHeader(npy);
        Assert.True(header.IsSuccess, header.Error?.Message);
        Assert.Equal("<f4", header.Value.Descr);
        Assert.False(header.Value.FortranOrder);
        Assert.Equal([2L, 3], header.Value.Shape);
        Assert.Equal(npy.Length - 24, header.Value.DataOffset);
    }

    [Theory]
    [InlineData("{'shape': (5,), 'fortran_order': False, 'descr': '<f4'}", new long[] { 5 })]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", new long[0])]
    public void Key_order_and_short_shapes_parse(string dict, long[] shape)
    {
        var header = NpyArray.ReadHeader(Raw(dict));
        Assert.True(header.IsSuccess, header.Error?.Message);
        Assert.Equal(shape, header.Value.Shape);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "must have the keys")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (3,)}", "repeated key 'shape'")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", "not the dict numpy writes")]
    [InlineData("{'descr': '<f4', 'fortran_order': 1, 'shape': (2,)}", "not the dict numpy writes")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", "not the dict numpy writes")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999,)}", "'shape' must be a tuple")]
    [InlineData("__import__('os')", "not the dict numpy writes")]
    public void Malformed_dicts_are_errors(string dict, string named)
    {
        var header = NpyArray.ReadHeader(Raw(dict));
        Assert.False(header.IsSuccess);
        Assert.Equal(NpyArray.InvalidTensor, header.Error.Code);
        Assert.Contains(named, header.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Headers_longer_than_the_limit_and_non_ascii_headers_are_errors()
    {
        var longHeader = NpyWriter.Write("<f4", false, [1], new byte[4], major: 2);
        BitConverter.GetBytes((uint)(NpyArray.MaxHeaderBytes + 1)).CopyTo(longHeader, 8);
        Assert.Contains("at most", NpyArray.ReadHeader(longHeader).Error!.Message, StringComparison.Ordinal);

        var binary = Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}");
        binary[12] = 0xFF;
        Assert.Contains("ASCII", NpyArray.ReadHeader(binary).Error!.Message, StringComparison.Ordinal);
    }

    /// <summary>A version 1.0 file whose header is exactly <paramref name="dict"/> (plus the newline).</summary>
    private static byte[] Raw(string dict)
    {
        var header = Encoding.ASCII.GetBytes(dict + "\n");
        return [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, (byte)(header.Length >> 8), .. header];
    }
}
