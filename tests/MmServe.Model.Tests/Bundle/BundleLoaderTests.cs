using System.Text.Json.Nodes;
using MmServe.Model.Bundle;

namespace MmServe.Model.Tests.Bundle;

public sealed class BundleLoaderTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    [Fact]
    public void Loads_a_valid_bundle_with_absolute_paths()
    {
        var bundle = BundleLoader.Load(_bundle.Write());

        var m = bundle.Manifest;
        Assert.Equal("mmserve-test", m.Id);
        Assert.Equal(256, m.MaxContext);
        Assert.Equal(["<|im_end|>", "<|endoftext|>"], m.Tokenizer.EosTokens);
        Assert.Null(m.Tokenizer.BosToken);
        Assert.Equal("<|im_start|>{role}\n{content}<|im_end|>\n", m.ChatTemplate.MessageFormat);
        Assert.Null(m.ChatTemplate.DefaultSystemPrompt);
        Assert.Equal(2, m.Decoder.NumKvHeads);
        Assert.Equal("past_key_values.1.key", m.Decoder.PastKeyName(1));
        Assert.Equal("present.0.value", m.Decoder.PresentValueName(0));
        Assert.Equal(new TensorDim("batch"), m.Components["embed_tokens"].Inputs[0].Shape[0]);
        Assert.Equal(new TensorDim(128), m.Components["embed_tokens"].Outputs[0].Shape[2]);
        var image = m.InputModalities["image"];
        Assert.Equal(16, image.TokensPerItem);
        Assert.Equal([0.25, 0.25, 0.25], image.Preprocessing.Std);
        Assert.Equal(400, m.InputModalities["audio"].Preprocessing.NFft);
        Assert.Equal(8000, m.InputModalities["audio"].Preprocessing.FMax);
        Assert.Equal("image_encoder", m.InputModalities["video"].FrameEncoder);
        Assert.Equal([-1.0, 1.0], m.OutputModalities["audio"].ValueRange);

        Assert.True(Path.IsPathRooted(bundle.Directory));
        Assert.Equal(Path.Combine(bundle.Directory, "tokenizer.json"), bundle.TokenizerPath);
        Assert.Equal(Path.Combine(bundle.Directory, "chat_template.jinja"), bundle.ChatTemplatePath);
        Assert.Equal(TestBundle.ComponentNames.Length, bundle.ComponentPaths.Count);
        Assert.True(File.Exists(bundle.ComponentPath("decoder")));
        Assert.Throws<KeyNotFoundException>(() => bundle.ComponentPath("nope"));
    }

    [Fact]
    public void Unknown_fields_are_ignored()
    {
        _bundle.Manifest["added_in_v2"] = new JsonObject { ["x"] = 1 };
        _bundle.Section("decoder")["rope_theta"] = 10000.0;
        _bundle.Section("input_modalities")["image"]!["preprocessing"]!["crop"] = "center";

        var m = BundleLoader.Load(_bundle.Write()).Manifest;

        // The known fields beside each unknown one still load as written.
        Assert.Equal("mmserve-test", m.Id);
        Assert.Equal(2, m.Decoder.NumKvHeads);
        Assert.Equal(32, m.Decoder.HeadDim);
        var p = m.InputModalities["image"].Preprocessing;
        Assert.Equal(PreprocessingSpec.KindImage, p.Kind);
        Assert.Equal((64, 64), (p.Width, p.Height));
        Assert.Equal("bilinear_antialias", p.Resize);
        Assert.Equal(PreprocessingSpec.AlphaDrop, p.Alpha);
    }

    [Fact]
    public void Optional_sections_may_be_absent()
    {
        _bundle.Manifest.Remove("input_modalities");
        _bundle.Manifest.Remove("output_modalities");
        _bundle.Manifest.Remove("description");
        var m = BundleLoader.Load(_bundle.Write()).Manifest;
        Assert.Empty(m.InputModalities);
        Assert.Empty(m.OutputModalities);
    }

    [Fact]
    public void Error_names_the_file_and_field()
    {
        _bundle.Section("decoder")["num_kv_heads"] = 0;
        var e = LoadFails();
        Assert.Contains(Path.Combine(_bundle.Directory, "manifest.json") + ": decoder.num_kv_heads must be > 0",
            e.Message);
    }

    [Theory]
    [InlineData("format", "\"mmserve.bundle/v9\"", "format must be \"mmserve.bundle/v1\"")]
    [InlineData("id", "\"\"", "id must be a non-empty string")]
    [InlineData("max_context", "0", "max_context must be > 0")]
    public void Top_level_fields_are_checked(string field, string json, string expected)
    {
        _bundle.Manifest[field] = JsonNode.Parse(json);
        Assert.Contains(expected, LoadFails().Message);
    }

    [Theory]
    [InlineData("num_attention_heads", 5, "decoder.num_attention_heads 5 must be a multiple of decoder.num_kv_heads (2)")]
    [InlineData("head_dim", 0, "decoder.head_dim must be > 0")]
    [InlineData("num_layers", -1, "decoder.num_layers must be > 0")]
    [InlineData("num_layers", 3, "decoder.past_key 'past_key_values.2.key' is not an input of components.decoder")]
    public void Decoder_dimensions_are_checked(string field, int value, string expected)
    {
        _bundle.Section("decoder")[field] = value;
        Assert.Contains(expected, LoadFails().Message);
    }

    [Fact]
    public void Decoder_tensor_names_must_exist_in_the_component()
    {
        _bundle.Section("decoder")["logits"] = "scores";
        _bundle.Section("decoder")["past_key"] = "past.key";
        var e = LoadFails();
        Assert.Contains("decoder.logits 'scores' is not an output of components.decoder", e.Message);
        Assert.Contains("decoder.past_key 'past.key' must contain {layer}", e.Message);
    }

    [Fact]
    public void Missing_component_file_is_reported()
    {
        File.Delete(Path.Combine(_bundle.Directory, "image_encoder.onnx"));
        Assert.Contains("components.image_encoder.file 'image_encoder.onnx' does not exist", LoadFails().Message);
    }

    [Fact]
    public void Files_must_stay_inside_the_bundle()
    {
        _bundle.Section("components")["decoder"]!["file"] = "../decoder.onnx";
        _bundle.Section("tokenizer")["file"] = "/etc/passwd";
        var e = LoadFails();
        Assert.Contains("components.decoder.file '../decoder.onnx' points outside the bundle folder", e.Message);
        Assert.Contains("tokenizer.file '/etc/passwd' must be a path relative to the bundle folder", e.Message);
    }

    [Fact]
    public void Referenced_components_must_be_defined()
    {
        _bundle.Section("input_modalities")["image"]!["encoder"] = "vision_tower";
        _bundle.Section("output_modalities")["audio"]!["generator"] = "vocoder";
        var e = LoadFails();
        Assert.Contains("input_modalities.image.encoder 'vision_tower' is not defined in components", e.Message);
        Assert.Contains("output_modalities.audio.generator 'vocoder' is not defined in components", e.Message);
        Assert.Equal(2, e.Errors.Count);
    }

    [Fact]
    public void Output_prompt_templates_and_voices_are_checked()
    {
        _bundle.Section("output_modalities")["image"]!["prompt_template"] = "Draw something.";
        _bundle.Section("output_modalities")["audio"]!["voices"] = new JsonArray();
        var e = LoadFails();
        Assert.Contains("output_modalities.image.prompt_template must contain {text}", e.Message);
        Assert.Contains("output_modalities.audio.voices must list at least one non-empty voice name", e.Message);
    }

    [Fact]
    public void Reference_bundle_declares_its_generation_prompts()
    {
        var m = BundleLoader.Load(TestPaths.Bundle).Manifest;
        Assert.Equal("Generate an image of {text}.", m.OutputModalities["image"].PromptTemplate);
        Assert.Equal(["default"], m.OutputModalities["audio"].Voices!);
        Assert.Equal("Transcribe the audio.", m.InputModalities["audio"].TranscriptionPrompt);
    }

    [Fact]
    public void Preprocessing_is_checked()
    {
        var image = _bundle.Section("input_modalities")["image"]!.AsObject();
        image["tokens_per_item"] = 0;
        image["preprocessing"]!["mean"] = new JsonArray(0.5, 0.5);
        image["preprocessing"]!["std"] = new JsonArray(0.25, 0.0, 0.25);
        _bundle.Section("input_modalities")["audio"]!["preprocessing"]!["kind"] = "spectrogram";
        _bundle.Section("input_modalities")["video"]!["preprocessing"]!["num_frames"] = 0;
        var e = LoadFails();
        Assert.Contains("input_modalities.image.tokens_per_item must be > 0", e.Message);
        Assert.Contains("input_modalities.image.preprocessing.mean must have 3 values (one per channel), got 2", e.Message);
        Assert.Contains("input_modalities.image.preprocessing.std must not contain 0", e.Message);
        Assert.Contains("input_modalities.audio.preprocessing.kind 'spectrogram' is not one of image, log_mel, video_frames", e.Message);
        Assert.Contains("input_modalities.video.preprocessing.num_frames must be > 0", e.Message);
    }

    [Theory]
    [InlineData("channel_order", "rgba", "channel_order 'rgba' is not one of rgb, bgr")]
    [InlineData("channel_order", "RGB", "channel_order 'RGB' is not one of rgb, bgr")]
    [InlineData("layout", "chw", "layout 'chw' is not one of nchw, nhwc")]
    [InlineData("alpha", "white", "alpha 'white' is not one of drop")]
    [InlineData("alpha", "", "alpha '' is not one of drop")]
    public void Image_channel_order_layout_and_alpha_are_checked(string field, string value, string expected)
    {
        _bundle.Section("input_modalities")["image"]!["preprocessing"]![field] = value;
        var e = LoadFails();
        var error = Assert.Single(e.Errors);
        Assert.Equal(Path.Combine(_bundle.Directory, "manifest.json") + ": input_modalities.image.preprocessing." + expected, error);
    }

    [Fact]
    public void Image_bgr_nhwc_and_absent_fields_are_accepted()
    {
        var preprocessing = _bundle.Section("input_modalities")["image"]!["preprocessing"]!.AsObject();
        preprocessing["channel_order"] = "bgr";
        preprocessing["layout"] = "nhwc";
        preprocessing.Remove("alpha");

        var p = BundleLoader.Load(_bundle.Write()).Manifest.InputModalities["image"].Preprocessing;

        Assert.Equal(PreprocessingSpec.ChannelOrderBgr, p.ChannelOrder);
        Assert.Equal(PreprocessingSpec.LayoutNhwc, p.Layout);
        Assert.Null(p.Alpha);
    }

    [Fact]
    public void Missing_required_field_is_named_with_its_path()
    {
        _bundle.Section("decoder").Remove("head_dim");
        Assert.Contains("manifest.json: decoder.head_dim is required", LoadFails().Message);
    }

    [Fact]
    public void Tools_call_format_must_have_a_place_for_the_call()
    {
        _bundle.Section("chat_template")["tools"] = new JsonObject { ["system_prefix"] = "Tools: ", ["call_format"] = "<tool_call></tool_call>" };
        Assert.Contains("chat_template.tools.call_format must contain {call}", LoadFails().Message);
    }

    [Fact]
    public void Null_for_a_required_string_is_named_with_its_path()
    {
        _bundle.Section("chat_template")["message_format"] = null;
        Assert.Contains("manifest.json: chat_template.message_format must not be null", LoadFails().Message);
    }

    [Fact]
    public void Wrong_json_type_is_named_with_its_path()
    {
        _bundle.Section("input_modalities")["audio"]!["tokens_per_item"] = "eight";
        Assert.Contains("manifest.json: input_modalities.audio.tokens_per_item has the wrong JSON type", LoadFails().Message);
    }

    [Fact]
    public void Json_syntax_errors_are_reported_with_a_line()
    {
        _bundle.Write();
        File.WriteAllText(_bundle.ManifestPath, "{\n  \"format\": ]\n}");
        var e = Assert.Throws<BundleValidationException>(() => BundleLoader.Load(_bundle.Directory));
        Assert.Contains("manifest.json: invalid JSON near format (line 2)", e.Message);
    }

    [Fact]
    public void Missing_manifest_is_reported()
    {
        var e = Assert.Throws<BundleValidationException>(() => BundleLoader.Load(_bundle.Directory));
        Assert.EndsWith("manifest.json: file does not exist", e.Message);
    }

    [Fact]
    public void Tokenizer_checks_pass_for_a_consistent_bundle()
    {
        var bundle = BundleLoader.Load(_bundle.Write());
        var tokenizer = BundleLoader.LoadTokenizer(bundle);
        Assert.Equal(Tokenization.TestTokenizerJson.ImEnd, tokenizer.TokenToId("<|im_end|>"));
    }

    [Fact]
    public void Tokens_named_by_the_manifest_must_exist_in_the_tokenizer()
    {
        _bundle.Section("tokenizer")["eos_tokens"] = new JsonArray("<|im_end|>", "<|eot|>");
        _bundle.Section("input_modalities")["image"]!["placeholder_token"] = "<image>";
        _bundle.Section("output_modalities")["audio"]!["signal_tokens"] = new JsonArray("<|aud_0|>", "<|img_0|>");
        _bundle.Section("decoder")["vocab_size"] = 100;
        var bundle = BundleLoader.Load(_bundle.Write());

        var e = Assert.Throws<BundleValidationException>(() => BundleLoader.LoadTokenizer(bundle));
        Assert.Contains("tokenizer.eos_tokens[1] '<|eot|>' is not a token of the tokenizer", e.Message);
        Assert.Contains("input_modalities.image.placeholder_token '<image>' is not a token of the tokenizer", e.Message);
        Assert.Contains(
            "output_modalities.audio.signal_tokens[1] '<|img_0|>' is already used by output_modalities.image.signal_tokens[0]",
            e.Message);
        Assert.Contains("decoder.vocab_size 100 is smaller than the tokenizer's 284 token ids", e.Message);
    }

    [Fact]
    public void Unsupported_tokenizer_json_becomes_a_bundle_error()
    {
        File.WriteAllText(Path.Combine(_bundle.Directory, "tokenizer.json"), "{\"model\": {\"type\": \"Unigram\"}}");
        var bundle = BundleLoader.Load(_bundle.Write());
        var e = Assert.Throws<BundleValidationException>(() => BundleLoader.LoadTokenizer(bundle));
        Assert.Contains("tokenizer.json: model.type 'Unigram'", e.Message);
    }

    private BundleValidationException LoadFails() =>
        Assert.Throws<BundleValidationException>(() => BundleLoader.Load(_bundle.Write()));
}
