#!/usr/bin/python3
"""Golden files for the C# re-implementation of PIL resize and of transformers' CLIP / Phi-3-V image processors.

Run with Debian's interpreter, which has python3-pil (Pillow 9.4) and python3-torch (1.13):

    /usr/bin/python3 tools/pil-oracle/generate.py

transformers and torchvision are not installed; the processors are re-implemented below with PIL + numpy + torch,
step by step after the Python sources (each function's docstring names the source function it mirrors;
transformers as of image_processing_clip.py 8f3e5eb and image_transforms.py 000593a):

* transformers src/transformers/models/clip/image_processing_clip.py (CLIPImageProcessor.preprocess / .resize)
* transformers src/transformers/image_transforms.py (get_resize_output_image_size, resize, center_crop, rescale,
  normalize, convert_to_rgb) and image_utils.py (load_image)
* microsoft/Phi-3.5-vision-instruct image_processing_phi3_v.py (HD_transform, padding_336, calc_hd_transform_size,
  pad_to_max_num_crops_tensor, Phi3VImageProcessor.preprocess)
* torchvision transforms/functional.py + _functional_pil.py (resize, pad on PIL images), transforms.ToTensor/Normalize

plus torch.nn.functional.interpolate(mode="bicubic") on its own. Everything is deterministic (fixed seeds, fixed zip
timestamps): rerunning rewrites identical bytes. Output: tests/MmServe.Media.Tests/Images/HuggingFace/Golden/.
"""

import io
import json
import math
import os
import sys
import zipfile

import numpy as np
import PIL
import torch
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "MmServe.Media.Tests", "Images", "HuggingFace", "Golden")
IMAGES = os.path.join(OUT, "images")

OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# PIL's Image.Resampling values, which is also what "resample" holds in preprocessor_config.json.
FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}


# ---------------------------------------------------------------------------------------------------------------
# Test images: "real-world shaped" (odd sizes, tall, wide, modes with alpha or palettes, EXIF rotation), with
# smooth regions, hard edges and some noise, small enough that the committed PNGs stay a few kB each.
# ---------------------------------------------------------------------------------------------------------------

def synthetic_rgb(width, height, seed, noise_patch=True):
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 110 * np.sin(xx / 13.0 + yy / 31.0)
    g = 128 + 110 * np.cos(xx / 7.0 - yy / 19.0)
    b = 255.0 * xx / max(width - 1, 1) * (0.5 + 0.5 * np.sin(yy / 5.0))
    img = np.stack([r, g, b], axis=-1)
    # Hard edges: a disc, thin stripes, a dark rectangle.
    disc = (xx - width * 0.35) ** 2 + (yy - height * 0.4) ** 2 < (min(width, height) * 0.22) ** 2
    img[disc] = [250, 20, 40]
    stripes = ((xx.astype(int) // 2) % 2 == 0) & (yy > height * 0.72) & (yy < height * 0.85)
    img[stripes] = [255, 255, 255]
    rect = (xx > width * 0.6) & (xx < width * 0.9) & (yy > height * 0.1) & (yy < height * 0.25)
    img[rect] = [5, 5, 5]
    if noise_patch:
        ph, pw = max(1, height // 6), max(1, width // 6)
        y0, x0 = height // 2, width // 8
        img[y0:y0 + ph, x0:x0 + pw] = rng.randint(0, 256, size=(min(ph, height - y0), min(pw, width - x0), 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def noise_rgb(width, height, seed):
    return np.random.RandomState(seed).randint(0, 256, size=(height, width, 3)).astype(np.uint8)


def screenshot_rgb(width, height):
    """Flat UI-like content: compresses well, so full 336-pixel tensors stay small."""
    img = np.full((height, width, 3), 246, np.uint8)
    img[: height // 10] = [40, 44, 52]  # title bar
    img[height // 10:, : width // 5] = [225, 230, 240]  # side bar
    for i, y in enumerate(range(height // 6, height - 20, 22)):
        length = width // 3 + (i * 37) % (width // 2)
        img[y:y + 9, width // 4: width // 4 + length] = [30, 30, 30] if i % 3 else [20, 90, 200]
    yy, xx = np.mgrid[0:height, 0:width]
    disc = (xx - width * 0.8) ** 2 + (yy - height * 0.75) ** 2 < (height * 0.12) ** 2
    img[disc] = [230, 120, 20]
    return img


def save(img, name, **kwargs):
    path = os.path.join(IMAGES, name)
    img.save(path, **kwargs)
    return name


def make_images():
    os.makedirs(IMAGES, exist_ok=True)
    names = {}
    names["photo"] = save(Image.fromarray(synthetic_rgb(333, 517, 1)), "photo_333x517.png", optimize=True)
    names["tall"] = save(Image.fromarray(synthetic_rgb(100, 900, 2)), "tall_100x900.png", optimize=True)
    names["wide"] = save(Image.fromarray(synthetic_rgb(900, 120, 3)), "wide_900x120.png", optimize=True)
    names["wide2"] = save(Image.fromarray(synthetic_rgb(500, 200, 4)), "wide_500x200.png", optimize=True)
    names["noise"] = save(Image.fromarray(noise_rgb(64, 48, 5)), "noise_64x48.png", optimize=True)
    names["screenshot"] = save(Image.fromarray(screenshot_rgb(640, 400)), "screenshot_640x400.png", optimize=True)
    names["tiny"] = save(Image.fromarray(np.array([[[200, 100, 50]]], np.uint8)), "tiny_1x1.png")
    names["row"] = save(Image.fromarray(noise_rgb(37, 1, 6)), "row_37x1.png")
    names["column"] = save(Image.fromarray(noise_rgb(1, 37, 7)), "column_1x37.png")
    names["strip"] = save(Image.fromarray(synthetic_rgb(600, 7, 8, noise_patch=False)), "strip_600x7.png", optimize=True)

    gray = synthetic_rgb(203, 150, 9)[..., 1]
    names["gray"] = save(Image.fromarray(gray, "L"), "gray_L_203x150.png", optimize=True)

    # LA and RGBA whose fully transparent pixels still carry colour: convert("RGB") keeps it.
    la_rgb = synthetic_rgb(120, 77, 10)
    la = np.stack([la_rgb[..., 0], (np.arange(77)[:, None] * 3 + np.arange(120)[None, :]) % 256], axis=-1).astype(np.uint8)
    names["la"] = save(Image.fromarray(la, "LA"), "la_120x77.png", optimize=True)
    rgba = np.concatenate([synthetic_rgb(150, 101, 11), np.zeros((101, 150, 1), np.uint8)], axis=-1)
    rgba[..., 3] = np.where(np.arange(150)[None, :] < 50, 0, np.where(np.arange(101)[:, None] < 50, 128, 255))
    names["rgba"] = save(Image.fromarray(rgba, "RGBA"), "rgba_150x101.png", optimize=True)

    # Palette PNG with a tRNS chunk (index 0 fully transparent, index 1 half).
    pal_img = Image.fromarray(synthetic_rgb(97, 131, 12)).quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pal_img.info["transparency"] = bytes([0, 128] + [255] * 62)
    names["palette"] = save(pal_img, "palette_P_trns_97x131.png", transparency=bytes([0, 128] + [255] * 62))

    # EXIF orientation 6 on a grayscale JPEG made of solid 8x8 blocks at quality 100: such blocks have only a DC
    # coefficient, which every JPEG decoder reconstructs exactly, so ImageSharp and libjpeg agree bit for bit and the
    # test isolates the orientation handling. Stored 120x72 (landscape), displayed 72x120.
    by, bx = np.mgrid[0:72, 0:120] // 8
    blocks = ((by * 53 + bx * 97 + (by * bx) % 7 * 11) % 200 + 28).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    names["exif6"] = save(Image.fromarray(blocks, "L"), "exif6_gray_blocks_120x72.jpg", quality=100, exif=exif.tobytes())

    # A colour photo-like JPEG (4:2:0, quality 90) with orientation 8: used to measure, not to require, how far
    # ImageSharp's JPEG decoder is from libjpeg-turbo's.
    exif8 = Image.Exif()
    exif8[0x0112] = 8
    names["jpeg8"] = save(Image.fromarray(synthetic_rgb(160, 120, 13)), "photo_exif8_160x120.jpg", quality=90, exif=exif8.tobytes())

    # Every EXIF orientation on a lossless PNG (eXIf chunk), so orientation is checked byte for byte.
    base = synthetic_rgb(7, 5, 14, noise_patch=False)
    base[0, 0] = [255, 0, 0]
    for orientation in range(1, 9):
        e = Image.Exif()
        e[0x0112] = orientation
        names[f"orient{orientation}"] = save(Image.fromarray(base), f"orientation{orientation}_7x5.png", exif=e.tobytes())
    return names


def hf_load_image(name):
    """transformers image_utils.load_image: ImageOps.exif_transpose, then image.convert("RGB")."""
    image = Image.open(os.path.join(IMAGES, name))
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


# ---------------------------------------------------------------------------------------------------------------
# 1. PIL resize (Image.resize == libImaging/Resample.c, or the affine nearest path for NEAREST)
# ---------------------------------------------------------------------------------------------------------------

# (width, height) targets per source: down- and up-scaling, one axis unchanged, odd sizes, 1-pixel sides, extreme
# aspect ratios. BILINEAR/BICUBIC/NEAREST run on all; the other PIL filters only where the output is small, to keep the
# committed file small.
RESIZE_CASES = {
    "noise": [(32, 24), (31, 17), (97, 73), (64, 20), (20, 48), (1, 1), (1, 48), (200, 3), (7, 300), (64, 48)],
    "photo": [(56, 86), (17, 23), (333, 41), (20, 517), (1, 517), (13, 900)],
    "tiny": [(5, 7), (3, 1), (1, 1)],
    "row": [(10, 1), (100, 3), (1, 1), (37, 5)],
    "column": [(1, 10), (3, 100), (5, 37)],
    "strip": [(90, 1), (336, 3), (7, 600), (1200, 14)],
}
MAIN_FILTERS = ["bilinear", "bicubic", "nearest"]
OTHER_FILTERS = ["lanczos", "box", "hamming"]
OTHER_FILTERS_MAX_PIXELS = 8000


def make_resize(names):
    arrays, cases = {}, []
    for source, sizes in RESIZE_CASES.items():
        image = hf_load_image(names[source])
        for width, height in sizes:
            small_output = width * height <= OTHER_FILTERS_MAX_PIXELS
            for filter_name in MAIN_FILTERS + (OTHER_FILTERS if small_output else []):
                key = f"{source}_{width}x{height}_{filter_name}"
                arrays[key] = np.asarray(image.resize((width, height), resample=FILTERS[filter_name]))
                cases.append({"id": key, "input": names[source], "width": width, "height": height, "filter": filter_name})
    return arrays, cases


# ---------------------------------------------------------------------------------------------------------------
# 2. CLIPImageProcessor (slow, PIL-based) as used by LLaVA
# ---------------------------------------------------------------------------------------------------------------

def get_size_dict(size, default_to_square):
    """image_processing_utils.get_size_dict / convert_to_size_dict for the forms configs use."""
    if isinstance(size, dict):
        return size
    if isinstance(size, int):
        return {"height": size, "width": size} if default_to_square else {"shortest_edge": size}
    if isinstance(size, (list, tuple)):
        return {"height": size[0], "width": size[1]}
    raise ValueError(size)


def get_resize_output_image_size(height, width, size, default_to_square):
    """image_transforms.get_resize_output_image_size without max_size."""
    if isinstance(size, (tuple, list)):
        return tuple(size)
    if default_to_square:
        return (size, size)
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if width <= height else (new_short, new_long)


def center_crop_chw(image, crop_height, crop_width):
    """image_transforms.center_crop on a (C, H, W) array, including the zero padding of too-small images."""
    orig_height, orig_width = image.shape[-2:]
    top = (orig_height - crop_height) // 2
    bottom = top + crop_height
    left = (orig_width - crop_width) // 2
    right = left + crop_width
    if top >= 0 and bottom <= orig_height and left >= 0 and right <= orig_width:
        return image[..., top:bottom, left:right]
    new_height = max(crop_height, orig_height)
    new_width = max(crop_width, orig_width)
    new_image = np.zeros_like(image, shape=image.shape[:-2] + (new_height, new_width))
    top_pad = math.ceil((new_height - orig_height) / 2)
    left_pad = math.ceil((new_width - orig_width) / 2)
    new_image[..., top_pad:top_pad + orig_height, left_pad:left_pad + orig_width] = image
    top += top_pad
    bottom += top_pad
    left += left_pad
    right += left_pad
    return new_image[..., max(0, top):min(new_height, bottom), max(0, left):min(new_width, right)]


def clip_preprocess(image, cfg):
    """CLIPImageProcessor.preprocess for one PIL image, data_format=channels_first.

    input_data_format is taken as channels_last. transformers infers it from the array shape instead, and an image
    whose height is 1 or 3 pixels is then misread as channels-first (shape (1, W, 3) or (3, W, 3)): a 1x1 image fails
    there (vllm-project/vllm#8954). The goldens describe what the processor does with the channel axis given.
    """
    size = get_size_dict(cfg.get("size", {"shortest_edge": 224}), default_to_square=False)
    crop_size = get_size_dict(cfg.get("crop_size", {"height": 224, "width": 224}), default_to_square=True)
    mean = cfg.get("image_mean", OPENAI_CLIP_MEAN)
    std = cfg.get("image_std", OPENAI_CLIP_STD)

    if cfg.get("do_convert_rgb", True) and image.mode != "RGB":  # image_transforms.convert_to_rgb
        image = image.convert("RGB")
    array = np.array(image)  # to_numpy_array: (H, W, 3) uint8

    if cfg.get("do_resize", True):
        # CLIPImageProcessor.resize: shortest_edge keeps the aspect ratio; height/width is taken as is.
        if "shortest_edge" in size:
            target, square = size["shortest_edge"], False
        else:
            target, square = (size["height"], size["width"]), True
        height, width = get_resize_output_image_size(array.shape[0], array.shape[1], target, square)
        # image_transforms.resize: uint8 goes to PIL without rescaling, PIL resizes, back to numpy.
        resample = cfg.get("resample", 3)
        array = np.array(Image.fromarray(array).resize((width, height), resample=resample))

    array = array.transpose(2, 0, 1)  # center_crop works in channels-first; preprocess ends channels-first too
    if cfg.get("do_center_crop", True):
        array = center_crop_chw(array, crop_size["height"], crop_size["width"])

    if cfg.get("do_rescale", True):
        # image_transforms.rescale: float64 multiply, then astype(float32).
        array = (array.astype(np.float64) * cfg.get("rescale_factor", 1 / 255)).astype(np.float32)

    if cfg.get("do_normalize", True):
        # image_transforms.normalize: float32 (non-float input is cast), mean/std cast to the image dtype.
        if not np.issubdtype(array.dtype, np.floating):
            array = array.astype(np.float32)
        m = np.array(mean, dtype=array.dtype)
        s = np.array(std, dtype=array.dtype)
        array = ((array.T - m) / s).T
    return np.ascontiguousarray(array.astype(np.float32))


LLAVA_CONFIG = {
    "crop_size": {"height": 336, "width": 336},
    "do_center_crop": True,
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": OPENAI_CLIP_MEAN,
    "image_processor_type": "CLIPImageProcessor",
    "image_std": OPENAI_CLIP_STD,
    "processor_class": "LlavaProcessor",
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 336},
}


def small(**overrides):
    cfg = dict(LLAVA_CONFIG)
    cfg.update({"size": {"shortest_edge": 56}, "crop_size": {"height": 56, "width": 56}})
    cfg.update(overrides)
    return cfg


CLIP_CONFIGS = {
    "llava": LLAVA_CONFIG,
    "small": small(),
    "bilinear_hw": small(size={"height": 40, "width": 64}, resample=2, crop_size=48),
    "tall_crop": small(crop_size={"height": 70, "width": 30}),
    "nearest": small(resample=0, crop_size=47),
    "no_resize": small(do_resize=False, crop_size=64),
    "no_crop": small(do_center_crop=False, size={"shortest_edge": 33}),
    "custom_norm": small(rescale_factor=0.5, image_mean=[10.0, 20.0, 30.0], image_std=[3.0, 0.7, 100.0]),
    "no_rescale": small(do_rescale=False),
    "imagenet": small(size=60, crop_size=50, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]),
}

CLIP_CASES = [
    ("llava", "screenshot"),
    ("small", "photo"), ("small", "tall"), ("small", "wide"), ("small", "noise"), ("small", "gray"), ("small", "la"),
    ("small", "rgba"), ("small", "palette"), ("small", "exif6"), ("small", "tiny"), ("small", "orient6"),
    ("bilinear_hw", "photo"), ("bilinear_hw", "wide"),
    ("tall_crop", "photo"), ("tall_crop", "noise"),
    ("nearest", "photo"), ("nearest", "wide2"),
    ("no_resize", "noise"), ("no_resize", "la"),
    ("no_crop", "photo"), ("no_crop", "wide"),
    ("custom_norm", "photo"),
    ("no_rescale", "noise"),
    ("imagenet", "tall"),
]


def make_clip(names):
    arrays, cases = {}, []
    for config_name, source in CLIP_CASES:
        key = f"{config_name}_{source}"
        arrays[key] = clip_preprocess(hf_load_image(names[source]), CLIP_CONFIGS[config_name])
        cases.append({"id": key, "config": config_name, "input": names[source], "shape": list(arrays[key].shape)})
    return arrays, cases


# ---------------------------------------------------------------------------------------------------------------
# 3. Phi3VImageProcessor (Phi-3.5-vision-instruct, image_processing_phi3_v.py)
# ---------------------------------------------------------------------------------------------------------------
# The tile size is 336 in the model; the small cases use a smaller tile (the same code with 336 replaced) so the
# committed tensors stay small. One case runs at the real size.

def padding_tile(image, tile):
    """padding_336: white rows above and below up to a multiple of the tile (torchvision pad -> ImageOps.expand)."""
    width, height = image.size
    tar = int(np.ceil(height / tile) * tile)
    top_padding = int((tar - height) / 2)
    bottom_padding = tar - height - top_padding
    return ImageOps.expand(image, border=(0, top_padding, 0, bottom_padding), fill=(255, 255, 255))


def hd_transform(image, hd_num, tile):
    """HD_transform."""
    width, height = image.size
    trans = False
    if width < height:
        image = image.transpose(Image.TRANSPOSE)
        trans = True
        width, height = image.size
    ratio = width / height
    scale = 1
    while scale * np.ceil(scale / ratio) <= hd_num:
        scale += 1
    scale -= 1
    new_w = int(scale * tile)
    new_h = int(new_w / ratio)
    # torchvision.transforms.functional.resize(img, [new_h, new_w]) on a PIL image: returns the image itself when
    # the size is unchanged, else img.resize((new_w, new_h), BILINEAR) (antialias is always on for PIL).
    if (new_w, new_h) != image.size:
        image = image.resize((new_w, new_h), Image.BILINEAR)
    image = padding_tile(image, tile)
    if trans:
        image = image.transpose(Image.TRANSPOSE)
    return image


def calc_hd_transform_size(width, height, hd_num, tile):
    """calc_hd_transform_size + calc_padded_size: the (width, height) of the HD image from the input size alone."""
    transposed = False
    if width < height:
        width, height = height, width
        transposed = True
    ratio = width / height
    scale = 1
    while scale * np.ceil(scale / ratio) <= hd_num:
        scale += 1
    scale -= 1
    new_width = int(scale * tile)
    new_height = int(new_width / ratio)
    target_height = int(np.ceil(new_height / tile) * tile)
    top = int((target_height - new_height) / 2)
    padded_width, padded_height = new_width, new_height + top + (target_height - new_height - top)
    if transposed:
        padded_width, padded_height = padded_height, padded_width
    return padded_width, padded_height


def phi3v_preprocess(image, num_crops, tile=336, mean=OPENAI_CLIP_MEAN, std=OPENAI_CLIP_STD, num_img_tokens=144):
    """Phi3VImageProcessor.preprocess for one image."""
    image = image.convert("RGB")  # convert_to_rgb (transformers.image_transforms) then .convert('RGB')
    elem = hd_transform(image, num_crops, tile)
    # torchvision ToTensor: uint8 HWC -> float32 CHW, .div(255); Normalize: tensor.sub_(mean).div_(std).
    hd = torch.from_numpy(np.array(elem, copy=True)).permute(2, 0, 1).contiguous().to(torch.float32).div(255)
    hd = hd.sub_(torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1))
    hd = hd.div_(torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1))
    global_image = torch.nn.functional.interpolate(hd.unsqueeze(0).float(), size=(tile, tile), mode="bicubic", align_corners=False)
    h, w = hd.size(1), hd.size(2)
    # The Python code writes 144 and 12; num_img_tokens from the config and its square root are the same numbers.
    sqrt_tokens = int(round(math.sqrt(num_img_tokens)))
    tokens = int(((h // tile) * (w // tile) + 1) * num_img_tokens + 1 + (h // tile + 1) * sqrt_tokens)
    crops = hd.reshape(1, 3, h // tile, tile, w // tile, tile).permute(0, 2, 4, 1, 3, 5).reshape(-1, 3, tile, tile)
    stacked = torch.cat([global_image, crops], dim=0)
    real = stacked.shape[0]
    if real < num_crops + 1:  # pad_to_max_num_crops_tensor
        stacked = torch.cat([stacked, torch.zeros(num_crops + 1 - real, 3, tile, tile)], dim=0)
    return {
        "pixel_values": stacked.numpy(),
        "hd_image": np.array(elem),
        "image_size": [h, w],
        "num_img_tokens": tokens,
        "real_crops": real - 1,
        "size_from_dims": list(calc_hd_transform_size(image.size[0], image.size[1], num_crops, tile)),
    }


PHI3V_CASES = [
    # (source, num_crops, tile)
    ("screenshot", 4, 336),
    ("photo", 4, 48), ("tall", 4, 48), ("wide", 4, 48), ("wide2", 4, 48), ("noise", 4, 48), ("gray", 4, 48),
    ("rgba", 4, 48), ("palette", 4, 48), ("exif6", 4, 48), ("tiny", 4, 48), ("la", 16, 24), ("photo", 16, 24),
    ("strip", 4, 40), ("noise", 1, 64),
]


def make_phi3v(names):
    arrays, cases = {}, []
    for source, num_crops, tile in PHI3V_CASES:
        key = f"{source}_crops{num_crops}_tile{tile}"
        image = hf_load_image(names[source])
        result = phi3v_preprocess(image, num_crops, tile)
        # Only the real crops: the zero padding is checked by the test without storing zeros.
        arrays[key] = np.ascontiguousarray(result["pixel_values"][: result["real_crops"] + 1])
        arrays[key + "__hd"] = result["hd_image"]
        cases.append({
            "id": key,
            "input": names[source],
            "num_crops": num_crops,
            "tile": tile,
            "image_size": result["image_size"],
            "num_img_tokens": result["num_img_tokens"],
            "real_crops": result["real_crops"],
            "size_from_dims": result["size_from_dims"],
        })
    return arrays, cases


def savez(path, arrays):
    """np.savez_compressed, but with fixed zip timestamps so that regenerating changes no bytes."""
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


# ---------------------------------------------------------------------------------------------------------------
# 4. torch bicubic interpolation (no antialias) on its own, up- and down-scaling, on random float planes
# ---------------------------------------------------------------------------------------------------------------

BICUBIC_CASES = [((40, 56), (17, 23)), ((96, 48), (48, 48)), ((7, 9), (29, 13)), ((13, 100), (13, 333)), ((1, 5), (3, 2)),
                 ((337, 20), (336, 20)), ((3, 4), (50, 61)), ((10, 10), (37, 41)), ((16, 16), (101, 97))]


def make_bicubic():
    arrays, cases = {}, []
    rng = np.random.RandomState(15)
    for (h, w), (oh, ow) in BICUBIC_CASES:
        key = f"{h}x{w}_to_{oh}x{ow}"
        plane = rng.randn(h, w).astype(np.float32)
        out = torch.nn.functional.interpolate(torch.from_numpy(plane)[None, None], size=(oh, ow), mode="bicubic", align_corners=False)
        arrays[key + "__in"] = plane
        arrays[key] = out[0, 0].numpy()
        cases.append({"id": key, "height": h, "width": w, "output_height": oh, "output_width": ow})
    return arrays, cases


def main():
    print(f"Pillow {PIL.__version__}, torch {torch.__version__}, numpy {np.__version__}", file=sys.stderr)
    names = make_images()

    # The block JPEG must decode to its blocks exactly, or the EXIF test would measure decoders instead.
    raw = np.array(Image.open(os.path.join(IMAGES, names["exif6"])))
    by, bx = np.mgrid[0:72, 0:120] // 8
    assert (raw == ((by * 53 + bx * 97 + (by * bx) % 7 * 11) % 200 + 28)).all(), "block JPEG is not lossless"

    decoded = {name: np.array(hf_load_image(names[name])) for name in ("jpeg8", "exif6", "gray", "la", "rgba", "palette")}
    decoded.update({f"orient{o}": np.array(hf_load_image(names[f"orient{o}"])) for o in range(1, 9)})

    resize_arrays, resize_cases = make_resize(names)
    clip_arrays, clip_cases = make_clip(names)
    phi_arrays, phi_cases = make_phi3v(names)
    bicubic_arrays, bicubic_cases = make_bicubic()

    savez(os.path.join(OUT, "decoded.npz"), decoded)
    savez(os.path.join(OUT, "resize.npz"), resize_arrays)
    savez(os.path.join(OUT, "clip.npz"), clip_arrays)
    savez(os.path.join(OUT, "phi3v.npz"), phi_arrays)
    savez(os.path.join(OUT, "bicubic.npz"), bicubic_arrays)
    index = {
        "generator": "tools/pil-oracle/generate.py",
        "versions": {"pillow": PIL.__version__, "torch": torch.__version__, "numpy": np.__version__},
        "resize": resize_cases,
        "clip_configs": CLIP_CONFIGS,
        "clip": clip_cases,
        "phi3v": phi_cases,
        "bicubic": bicubic_cases,
    }
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    main()
