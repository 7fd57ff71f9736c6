namespace MmServe.Media.Tests;

public sealed class MediaResultTests
{
    [Fact]
    public void Success_carries_the_value_and_no_error()
    {
        var result = MediaResult<string>.Success("ok");

        Assert.True(result.IsSuccess);
        Assert.Equal("ok", result.Value);
        Assert.Null(result.Error);
    }

    [Fact]
    public void Error_converts_implicitly_to_a_failure()
    {
        MediaResult<string> result = new MediaError(MediaErrorCodes.InvalidImage, "bad");

        Assert.False(result.IsSuccess);
        Assert.Null(result.Value);
        Assert.Equal(MediaErrorCodes.InvalidImage, result.Error.Code);
    }
}
