"""config.json and processor files of the two models, field for field as the real checkpoints write them
(llava-hf/llava-1.5-7b-hf, microsoft/Phi-3.5-vision-instruct), with tiny dimensions."""
from __future__ import annotations

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# ------------------------------------------------------------------------------------------------ tiny-llava
LLAVA_IMAGE = 112
LLAVA_PATCH = 14
LLAVA_TOKENS = (LLAVA_IMAGE // LLAVA_PATCH) ** 2 + 1  # patches + the class token ('full' strategy)


def llava_config(ids: dict, vocab_size: int) -> dict:
    text = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "vocab_size": vocab_size,
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 32,
        "hidden_act": "silu",
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-05,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "bos_token_id": ids["<s>"],
        "eos_token_id": ids["</s>"],
        "pad_token_id": ids["<pad>"],
        "torch_dtype": "float32",
    }
    vision = {
        "model_type": "clip_vision_model",
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "num_channels": 3,
        "image_size": LLAVA_IMAGE,
        "patch_size": LLAVA_PATCH,
        "hidden_act": "quick_gelu",
        "layer_norm_eps": 1e-05,
        "projection_dim": 128,
    }
    return {
        "architectures": ["LlavaForConditionalGeneration"],
        "model_type": "llava",
        "ignore_index": -100,
        "image_token_index": ids["<image>"],
        "image_seq_length": LLAVA_TOKENS,
        "projector_hidden_act": "gelu",
        "multimodal_projector_bias": True,
        "vision_feature_layer": -2,
        "vision_feature_select_strategy": "full",
        "pad_token_id": ids["<pad>"],
        "tie_word_embeddings": False,
        "text_config": text,
        "vision_config": vision,
        "torch_dtype": "float32",
    }


def llava_generation_config(ids: dict) -> dict:
    return {"bos_token_id": ids["<s>"], "eos_token_id": ids["</s>"], "pad_token_id": ids["<pad>"]}


def llava_preprocessor_config() -> dict:
    return {
        "crop_size": {"height": LLAVA_IMAGE, "width": LLAVA_IMAGE},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": CLIP_MEAN,
        "image_processor_type": "CLIPImageProcessor",
        "image_std": CLIP_STD,
        "processor_class": "LlavaProcessor",
        "resample": 3,
        "rescale_factor": 0.00392156862745098,
        "size": {"shortest_edge": LLAVA_IMAGE},
    }


def llava_processor_config() -> dict:
    return {
        "image_token": "<image>",
        "num_additional_image_tokens": 1,
        "patch_size": LLAVA_PATCH,
        "processor_class": "LlavaProcessor",
        "vision_feature_select_strategy": "full",
    }


# ------------------------------------------------------------------------------------------ tiny-phi3-vision
PHI3_CROP = 336
PHI3_NUM_CROPS = 4
PHI3_NUM_IMG_TOKENS = 16  # per 336x336 crop after the 2x2 merge (Phi-3.5-vision: 144)
PHI3_PATCH = 42  # 336 / 42 = 8 x 8 patches -> 4 x 4 after the merge
PHI3_VISION_DIM = 32  # img_processor.image_dim_out (Phi-3.5-vision: 1024)


def phi3_config(ids: dict, vocab_size: int) -> dict:
    return {
        "architectures": ["Phi3VForCausalLM"],
        "model_type": "phi3_v",
        "attention_dropout": 0.0,
        "bos_token_id": ids["<s>"],
        "embd_layer": {
            "embedding_cls": "image",
            "hd_transform_order": "sub_glb",
            "projection_cls": "mlp",
            "use_hd_transform": True,
            "with_learnable_separator": True,
        },
        "embd_pdrop": 0.0,
        "eos_token_id": ids["</s>"],
        "hidden_act": "silu",
        "hidden_size": 128,
        "img_processor": {
            "image_dim_out": PHI3_VISION_DIM,
            "model_name": "synthetic tiny CLIP-like encoder (conv patchify 42x42, one encoder layer)",
            "name": "clip_vision_model",
            "num_img_tokens": PHI3_NUM_IMG_TOKENS,
        },
        "initializer_range": 0.02,
        "intermediate_size": 256,
        "max_position_embeddings": 4096,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "original_max_position_embeddings": 4096,
        "pad_token_id": ids["<|endoftext|>"],
        "resid_pdrop": 0.0,
        "rms_norm_eps": 1e-05,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "sliding_window": 262144,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": vocab_size,
    }


def phi3_generation_config(ids: dict) -> dict:
    return {"bos_token_id": ids["<s>"], "eos_token_id": [ids["<|end|>"], ids["<|assistant|>"], ids["<|endoftext|>"]],
            "pad_token_id": ids["<|endoftext|>"]}


def phi3_preprocessor_config() -> dict:
    return {
        "do_convert_rgb": True,
        "image_mean": CLIP_MEAN,
        "image_processor_type": "Phi3VImageProcessor",
        "image_std": CLIP_STD,
        "num_crops": PHI3_NUM_CROPS,
        "num_img_tokens": PHI3_NUM_IMG_TOKENS,
        "processor_class": "Phi3VProcessor",
    }
