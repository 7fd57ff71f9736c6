using System.Text.Json.Nodes;
using MmServe.Model.Tests.Tokenization;

namespace MmServe.Model.Tests.Bundle;

/// <summary>
/// A complete bundle folder in a temp directory, following docs/model-bundle.draft.md. Tests edit
/// <see cref="Manifest"/> (or delete files) and then call <see cref="Write"/>.
/// </summary>
internal sealed class TestBundle : IDisposable
{
    public static readonly string[] ComponentNames =
    [
        "embed_tokens", "decoder", "image_encoder", "image_projector", "audio_encoder", "audio_projector",
        "video_projector", "image_output_projector", "image_generator", "audio_output_projector", "audio_generator",
    ];

    public TestBundle()
    {
        Directory = Path.Combine(Path.GetTempPath(), "mmserve-bundle-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Manifest = JsonNode.Parse(ManifestJson)!.AsObject();
        foreach (var name in ComponentNames)
        {
            File.WriteAllBytes(Path.Combine(Directory, name + ".onnx"), []);
        }

        File.WriteAllText(Path.Combine(Directory, "tokenizer.json"), TestTokenizerJson.Gpt2StyleJson());
        File.WriteAllText(Path.Combine(Directory, "chat_template.jinja"), "{# reference only #}");
    }

    public string Directory { get; }

    public JsonObject Manifest { get; }

    public string ManifestPath => Path.Combine(Directory, "manifest.json");

    public JsonObject Section(string name) => Manifest[name]!.AsObject();

    public string Write()
    {
        File.WriteAllText(ManifestPath, Manifest.ToJsonString());
        return Directory;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is harmless.
        }
    }

    private const string ManifestJson = """
        {
          "format": "mmserve.bundle/v1",
          "id": "mmserve-test",
          "description": "test bundle",
          "max_context": 256,
          "tokenizer": { "file": "tokenizer.json", "eos_tokens": ["<|im_end|>", "<|endoftext|>"], "pad_token": "<|pad|>", "bos_token": null },
          "chat_template": {
            "file": "chat_template.jinja",
            "message_format": "<|im_start|>{role}\n{content}<|im_end|>\n",
            "generation_prompt": "<|im_start|>assistant\n",
            "part_separator": "\n",
            "default_system_prompt": null
          },
          "components": {
            "embed_tokens": { "file": "embed_tokens.onnx",
              "inputs": [ { "name": "input_ids", "dtype": "int64", "shape": ["batch", "seq"] } ],
              "outputs": [ { "name": "inputs_embeds", "dtype": "float32", "shape": ["batch", "seq", 128] } ] },
            "decoder": { "file": "decoder.onnx",
              "inputs": [
                { "name": "inputs_embeds", "dtype": "float32", "shape": ["batch", "seq", 128] },
                { "name": "attention_mask", "dtype": "int64", "shape": ["batch", "total"] },
                { "name": "position_ids", "dtype": "int64", "shape": ["batch", "seq"] },
                { "name": "past_key_values.0.key", "dtype": "float32", "shape": ["batch", 2, "past", 32] },
                { "name": "past_key_values.0.value", "dtype": "float32", "shape": ["batch", 2, "past", 32] },
                { "name": "past_key_values.1.key", "dtype": "float32", "shape": ["batch", 2, "past", 32] },
                { "name": "past_key_values.1.value", "dtype": "float32", "shape": ["batch", 2, "past", 32] } ],
              "outputs": [
                { "name": "logits", "dtype": "float32", "shape": ["batch", "seq", 300] },
                { "name": "last_hidden_state", "dtype": "float32", "shape": ["batch", "seq", 128] },
                { "name": "present.0.key", "dtype": "float32", "shape": ["batch", 2, "total", 32] },
                { "name": "present.0.value", "dtype": "float32", "shape": ["batch", 2, "total", 32] },
                { "name": "present.1.key", "dtype": "float32", "shape": ["batch", 2, "total", 32] },
                { "name": "present.1.value", "dtype": "float32", "shape": ["batch", 2, "total", 32] } ] },
            "image_encoder": { "file": "image_encoder.onnx" },
            "image_projector": { "file": "image_projector.onnx" },
            "audio_encoder": { "file": "audio_encoder.onnx" },
            "audio_projector": { "file": "audio_projector.onnx" },
            "video_projector": { "file": "video_projector.onnx" },
            "image_output_projector": { "file": "image_output_projector.onnx" },
            "image_generator": { "file": "image_generator.onnx" },
            "audio_output_projector": { "file": "audio_output_projector.onnx" },
            "audio_generator": { "file": "audio_generator.onnx" }
          },
          "embedding": { "component": "embed_tokens", "input_ids": "input_ids", "inputs_embeds": "inputs_embeds" },
          "decoder": {
            "component": "decoder", "hidden_size": 128, "num_layers": 2, "num_attention_heads": 4,
            "num_kv_heads": 2, "head_dim": 32, "vocab_size": 300,
            "inputs_embeds": "inputs_embeds", "attention_mask": "attention_mask", "position_ids": "position_ids",
            "past_key": "past_key_values.{layer}.key", "past_value": "past_key_values.{layer}.value",
            "logits": "logits", "hidden_states": "last_hidden_state",
            "present_key": "present.{layer}.key", "present_value": "present.{layer}.value",
            "kv_layout": "batch,kv_heads,seq,head_dim"
          },
          "input_modalities": {
            "image": { "placeholder_token": "<|image|>", "tokens_per_item": 16, "encoder": "image_encoder", "projector": "image_projector",
                       "preprocessing": { "kind": "image", "width": 64, "height": 64, "resize": "bilinear_antialias",
                                          "rescale_factor": 0.00392156862745098, "mean": [0.5,0.5,0.5], "std": [0.25,0.25,0.25],
                                          "channel_order": "rgb", "layout": "nchw", "alpha": "drop" } },
            "audio": { "placeholder_token": "<|audio|>", "tokens_per_item": 8, "encoder": "audio_encoder", "projector": "audio_projector",
                       "preprocessing": { "kind": "log_mel", "sample_rate": 16000, "clip_seconds": 2.0, "n_fft": 400, "win_length": 400,
                                          "hop_length": 160, "window": "hann_periodic", "center": false, "n_mels": 40, "f_min": 0, "f_max": 8000,
                                          "mel_scale": "htk", "power": 2.0, "log": "ln", "log_offset": 1e-6, "layout": "batch,mels,frames" } },
            "video": { "placeholder_token": "<|video|>", "tokens_per_item": 8, "frame_encoder": "image_encoder", "projector": "video_projector",
                       "preprocessing": { "kind": "video_frames", "num_frames": 8, "sampling": "uniform", "frame_preprocessing": "image" } }
          },
          "output_modalities": {
            "image": { "signal_tokens": ["<|img_0|>","<|img_1|>"], "output_projector": "image_output_projector",
                       "generator": "image_generator", "width": 64, "height": 64, "layout": "nchw", "value_range": [0,1] },
            "audio": { "signal_tokens": ["<|aud_0|>","<|aud_1|>"], "output_projector": "audio_output_projector", "generator": "audio_generator",
                       "sample_rate": 16000, "value_range": [-1,1] }
          }
        }
        """;
}
