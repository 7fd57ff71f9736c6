using MmServe.Media.Images;

namespace MmServe.Media.Tests.Images;

public sealed class DataUrlTests
{
    [Fact]
    public void Base64_image_url_yields_media_type_and_bytes()
    {
        byte[] payload = [0, 1, 2, 250, 251, 252, 253];

        var result = DataUrl.Parse("data:image/png;base64," + Convert.ToBase64String(payload), maxBytes: 1000);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal("image/png", result.Value.MediaType);
        Assert.Equal(payload, result.Value.Data.ToArray());
    }

    [Fact]
    public void Scheme_media_type_and_marker_are_case_insensitive_and_parameters_are_ignored()
    {
        var result = DataUrl.Parse("DATA:Image/JPEG;name=cat.jpg;BASE64,AAEC", maxBytes: 1000);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal("image/jpeg", result.Value.MediaType);
        Assert.Equal(new byte[] { 0, 1, 2 }, result.Value.Data.ToArray());
    }

    [Theory]
    [InlineData("data:image/png;base64,@@@@")]
    [InlineData("data:image/png;base64,AAE")]
    [InlineData("data:image/png;base64,AA-_")]
    public void Invalid_base64_is_reported_clearly(string url)
    {
        var result = DataUrl.Parse(url, maxBytes: 1000);

        Assert.Equal(MediaErrorCodes.InvalidDataUrl, result.Error?.Code);
        Assert.Equal("The data URL payload is not valid base64.", result.Error?.Message);
    }

    [Theory]
    [InlineData("https://example.com/cat.png")]
    [InlineData("data:image/png;base64")]
    [InlineData("data:image/png,rawbytes")]
    [InlineData("data:image/png;base64,")]
    public void Malformed_data_urls_are_invalid(string url)
    {
        Assert.Equal(MediaErrorCodes.InvalidDataUrl, DataUrl.Parse(url, maxBytes: 1000).Error?.Code);
    }

    [Fact]
    public void Oversized_payload_is_rejected_from_its_length_before_decoding()
    {
        // 400 characters that are not even base64: only a length check can produce "too large" here.
        var result = DataUrl.Parse("data:image/png;base64," + new string('!', 400), maxBytes: 100);

        Assert.Equal(MediaErrorCodes.PayloadTooLarge, result.Error?.Code);
        Assert.Contains("100 bytes", result.Error?.Message);
    }

    [Fact]
    public void Payload_of_exactly_max_bytes_is_accepted_and_one_more_is_rejected()
    {
        string exact = "data:image/png;base64," + Convert.ToBase64String(new byte[100]);
        string over = "data:image/png;base64," + Convert.ToBase64String(new byte[101]);

        Assert.True(DataUrl.Parse(exact, maxBytes: 100).IsSuccess);
        Assert.Equal(MediaErrorCodes.PayloadTooLarge, DataUrl.Parse(over, maxBytes: 100).Error?.Code);
    }

    [Fact]
    public void Max_decoded_length_is_exact_for_canonical_base64()
    {
        for (int length = 1; length <= 12; length++)
        {
            Assert.Equal(length, DataUrl.MaxDecodedLength(Convert.ToBase64String(new byte[length])));
        }
    }
}
