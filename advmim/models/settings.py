"""Each network's settings (``models.<name>.*`` in the configuration) and their defaults, without
importing torch: config validation reads these, and the network classes take their keyword
defaults from here (one source)."""

from __future__ import annotations

IMAGENET = "imagenet"  # models.swin_unet.pretrained value: the official Swin-T, downloaded once
SWIN_T_FILE = "swin_tiny_patch4_window7_224.pth"
SWIN_T_URL = f"https://github.com/SwinTransformer/storage/releases/download/v1.0.0/{SWIN_T_FILE}"
HOW_TO_GET = (
    f"Download {SWIN_T_URL} (the ImageNet Swin-T of microsoft/Swin-Transformer) and give its "
    "path as models.swin_unet.pretrained, or set pretrained: imagenet and let the workflow "
    "download it, or set pretrained: null to train the Swin-UNet from scratch."
)

NETWORK_SETTINGS: dict[str, dict] = {
    "unet": {
        "channels": (16, 32, 64, 128, 256),    # SSL4MIS U-Net widths
        "dropout": (0.05, 0.1, 0.2, 0.3, 0.5),  # per encoder stage (SSL4MIS)
        "decoder_dropout": 0.0,
        "upsample": "bilinear",
    },
    "swin_unet": {
        "patch_size": 4,
        "embed_dim": 24,
        "depths": (2, 2, 2, 2),
        "num_heads": (1, 2, 4, 8),
        "window_size": 4,
        "mlp_ratio": 4.0,
        "qkv_bias": True,
        "drop_rate": 0.0,
        "attn_drop_rate": 0.0,
        "drop_path_rate": 0.1,
        "pretrained": None,          # weights file, "imagenet" (downloaded) or None (from scratch)
        "pretrained_sha256": None,   # used by the download (workflow)
        "pretrained_url": None,      # a mirror of the official release asset
    },
    "discriminator": {  # AdvMIM's patch discriminators on softmax maps
        "base": 64,      # first conv width (authors' train.py: 64; then 2x per stage)
    },
}


def model_defaults(name: str) -> dict:
    """``{setting: default}`` of network ``name`` (keyword arguments of ``build_model``)."""
    return dict(NETWORK_SETTINGS[name])


def model_params(name: str) -> list[str]:
    """Settings accepted by ``build_model(name, ...)`` besides the fixed ones."""
    return sorted(NETWORK_SETTINGS[name])


# The network of each reported network key (methods' cards: ``reported``).
ARCH_OF_KEY = {"S": "swin_unet", "C": "unet"}


def size_problem(name: str, img_size: int, params: dict | None = None) -> str | None:
    """Why network ``name`` with settings ``params`` cannot take ``img_size`` x ``img_size``
    inputs (None when it can): a U-Net halves the size at each of its len(channels) - 1 pools; a
    Swin-UNet cuts patch_size patches, then halves the token grid at each of len(depths) - 1
    merges."""
    p = {**NETWORK_SETTINGS.get(name, {}), **(params or {})}
    if name == "unet":
        divisor, why = 2 ** (len(p["channels"]) - 1), f"2^{len(p['channels']) - 1} pools"
    elif name == "swin_unet":
        n = len(p["depths"])
        divisor, why = p["patch_size"] * 2 ** (n - 1), f"patch_size {p['patch_size']} x 2^{n - 1} merges"
    else:
        return None
    if img_size % divisor:
        return f"img_size {img_size} must be divisible by {divisor} for {name} ({why})"
    return None
