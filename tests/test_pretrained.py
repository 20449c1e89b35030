"""Mapping of timm Swin-T weights onto the Swin-UNet encoder and mirrored decoder stages."""

import pytest
import torch
from safetensors.torch import save_file
from timm.models.swin_transformer import SwinTransformer

from advmim.errors import ConfigError
from advmim.models import build_model, load_swin_pretrained

torch.set_num_threads(2)

DIMS = dict(embed_dim=12, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), window_size=4)


@pytest.fixture(scope="module")
def timm_sd():
    """A randomly initialised timm Swin with the same dims as the tiny Swin-UNet."""
    torch.manual_seed(1)
    return SwinTransformer(img_size=64, patch_size=4, **DIMS).state_dict()


def _check_mapping(model, sd):
    own = model.state_dict()
    for key in [
        "patch_embed.proj.weight",
        "patch_embed.norm.bias",
        "layers.2.downsample.reduction.weight",
        "layers.0.blocks.1.attn.qkv.weight",
        "layers.3.blocks.0.mlp.fc2.bias",
        "norm.weight",
    ]:
        assert torch.equal(own[key], sd[key]), key
    # decoder stage k <- encoder stage n - 2 - k (same resolution and width)
    for k, i in [(0, 2), (1, 1), (2, 0)]:
        for rest in [
            "blocks.0.attn.qkv.weight",
            "blocks.1.mlp.fc1.weight",
            "blocks.1.norm2.bias",
            "blocks.0.attn.relative_position_bias_table",
        ]:
            assert torch.equal(own[f"layers_up.{k}.{rest}"], sd[f"layers.{i}.{rest}"]), (k, rest)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_mapping_loads_encoder_and_mirrored_decoder(tmp_path, timm_sd, suffix):
    path = tmp_path / f"swin{suffix}"
    if suffix == ".pth":
        torch.save({"model": timm_sd}, path)
    else:
        save_file({k: v.contiguous() for k, v in timm_sd.items()}, str(path))
    model = build_model("swin_unet", 4, 64, pretrained=str(path), **DIMS)
    _check_mapping(model, timm_sd)
    report = model.pretrained_report
    assert ("head.fc.weight", "not used by the Swin-UNet") in report.skipped
    assert "layers_up.0.blocks.0.attn.qkv.weight" in report.loaded
    assert "mask_token" in report.not_initialised and "head.weight" in report.not_initialised
    assert "loaded" in report.summary()


def test_shape_mismatches_are_skipped(tmp_path, timm_sd):
    path = tmp_path / "swin.pth"
    torch.save(timm_sd, path)
    model = build_model(
        "swin_unet", 4, 64, embed_dim=12, depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 4), window_size=2
    )
    report = load_swin_pretrained(model, path)
    reasons = dict(report.skipped)
    assert "shape" in reasons["layers.0.blocks.0.attn.relative_position_bias_table"]
    assert (
        "layers.0.blocks.1.attn.qkv.weight",
        "no layers.0.blocks.1.attn.qkv.weight in the model",
    ) in report.skipped
    assert torch.equal(
        model.state_dict()["layers.1.blocks.0.attn.qkv.weight"],
        timm_sd["layers.1.blocks.0.attn.qkv.weight"],
    )


def test_original_checkpoint_layout_is_shifted(tmp_path, timm_sd):
    """Microsoft checkpoints keep the merge at the end of stage i (timm: start of i + 1)."""
    old = {}
    for k, v in timm_sd.items():
        for i in (1, 2, 3):
            k = k.replace(f"layers.{i}.downsample", f"layers.{i - 1}.downsample")
        old[k] = v
    path = tmp_path / "old.pth"
    torch.save(old, path)
    model = build_model("swin_unet", 4, 64, **DIMS)
    load_swin_pretrained(model, path)
    _check_mapping(model, timm_sd)


def test_missing_file_is_a_config_error(tmp_path):
    model = build_model("swin_unet", 4, 64, **DIMS)
    with pytest.raises(ConfigError, match="pretrained: null") as err:
        load_swin_pretrained(model, tmp_path / "nope.pth")
    assert "swin_tiny_patch4_window7_224" in str(err.value)


def test_paper_size_swin_unet_takes_swin_t(tmp_path):
    """Swin-T (depths 2,2,6,2) into the paper Swin-UNet (depths 2,2,2,2, window 7)."""
    sd = SwinTransformer(
        img_size=224,
        patch_size=4,
        embed_dim=96,
        depths=(2, 2, 6, 2),
        num_heads=(3, 6, 12, 24),
        window_size=7,
    ).state_dict()
    path = tmp_path / "swin_t.pth"
    torch.save(sd, path)
    model = build_model(
        "swin_unet",
        4,
        224,
        embed_dim=96,
        depths=(2, 2, 2, 2),
        num_heads=(3, 6, 12, 24),
        window_size=7,
    )
    report = load_swin_pretrained(model, path)
    extra = {k for k in sd if k.startswith(tuple(f"layers.2.blocks.{j}." for j in (2, 3, 4, 5)))}
    assert {k for k, _ in report.skipped} == {"head.fc.weight", "head.fc.bias"} | extra
    own = model.state_dict()
    for tgt, src in [
        (
            "layers_up.0.blocks.1.attn.relative_position_bias_table",
            "layers.2.blocks.1.attn.relative_position_bias_table",
        ),
        ("layers_up.2.blocks.0.attn.qkv.weight", "layers.0.blocks.0.attn.qkv.weight"),
        ("layers.3.downsample.reduction.weight", "layers.3.downsample.reduction.weight"),
        ("patch_embed.proj.weight", "patch_embed.proj.weight"),
    ]:
        assert torch.equal(own[tgt], sd[src]), tgt
