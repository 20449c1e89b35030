"""Swin-T weights: download (local HTTP server), verification, and mapping onto the Swin-UNet
encoder and mirrored decoder stages."""

import hashlib
import io
import re

import pytest
import torch
from safetensors.torch import save_file
from timm.models.swin_transformer import SwinTransformer

from advmim.cli import main
from advmim.errors import ConfigError
from advmim.models import build_model, load_swin_pretrained
from advmim.models.settings import SWIN_T_FILE
from tests.http_server import FakeServer, closed_port_url

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


def test_shape_mismatches_are_skipped_and_windows_resized_by_timm(tmp_path, timm_sd):
    path = tmp_path / "swin.pth"
    torch.save(timm_sd, path)
    model = build_model(
        "swin_unet", 4, 64, embed_dim=12, depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 8), window_size=2
    )
    report = load_swin_pretrained(model, path)
    reasons = dict(report.skipped)
    # timm's checkpoint_filter_fn resamples the window-4 tables (7x7 offsets) to window 2 (3x3)
    table = "layers.0.blocks.0.attn.relative_position_bias_table"
    assert table in report.loaded and timm_sd[table].shape == (49, 1)
    assert model.state_dict()[table].shape == (9, 1)
    assert "shape (9, 4) != (9, 8)" in reasons["layers.3.blocks.0.attn.relative_position_bias_table"]
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


PAPER_SWIN = dict(embed_dim=96, depths=(2, 2, 2, 2), num_heads=(3, 6, 12, 24), window_size=7)


def microsoft_swin_t() -> dict[str, torch.Tensor]:
    """A Swin-T-shaped state dict in the original Microsoft layout (PatchMerging at the end of
    stage i, classifier ``head``): tensor number i is filled with i (stride 0: a small file)."""
    with torch.device("meta"):
        timm_swin_t = SwinTransformer(img_size=224, patch_size=4, embed_dim=96, depths=(2, 2, 6, 2),
                                      num_heads=(3, 6, 12, 24), window_size=7)
    sd = {}
    for i, (key, value) in enumerate(timm_swin_t.state_dict().items()):
        key = re.sub(r"^layers\.(\d+)\.downsample", lambda m: f"layers.{int(m.group(1)) - 1}.downsample", key)
        sd[key.replace("head.fc.", "head.")] = torch.full((1,), float(i)).expand(value.shape)
    return sd


@pytest.fixture(scope="module")
def swin_t_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"model": microsoft_swin_t()}, buffer)
    return buffer.getvalue()


def test_download_weights_caches_checks_sha_and_loads_into_every_stage(tmp_path, swin_t_bytes, capsys):
    out = tmp_path / "results" / "pretrained" / SWIN_T_FILE
    digest = hashlib.sha256(swin_t_bytes).hexdigest()
    with FakeServer({f"/{SWIN_T_FILE}": swin_t_bytes}) as server:
        argv = ["download-weights", "swin-t", "--url", server.url(f"/{SWIN_T_FILE}"), "--out", str(out),
                "--no-progress"]
        assert main(argv) == 0
        assert f"SHA-256 of {SWIN_T_FILE}: {digest}" in capsys.readouterr().err  # to be pinned
        assert main([*argv, "--sha256", digest]) == 0 and len(server.requests) == 1  # cached, verified
        assert main([*argv, "--sha256", "0" * 64]) == 2
        assert "delete it to download again" in capsys.readouterr().err and len(server.requests) == 1
    assert out.read_bytes() == swin_t_bytes and not list(out.parent.glob("*.part"))
    src = microsoft_swin_t()
    model = build_model("swin_unet", 4, 224, pretrained=str(out), **PAPER_SWIN)
    own = model.state_dict()

    def filled_from(target, source):
        return bool(torch.all(own[target] == src[source][(0,) * src[source].dim()]))

    assert filled_from("layers.1.downsample.reduction.weight", "layers.0.downsample.reduction.weight")
    assert filled_from("layers.3.downsample.norm.bias", "layers.2.downsample.norm.bias")
    assert filled_from("patch_embed.proj.weight", "patch_embed.proj.weight")
    assert filled_from("norm.weight", "norm.weight")
    for k, i in [(0, 2), (1, 1), (2, 0)]:  # decoder stage k <- encoder stage 2 - k
        for rest in ("blocks.0.attn.qkv.weight", "blocks.1.mlp.fc2.bias",
                     "blocks.1.attn.relative_position_bias_table"):
            assert filled_from(f"layers_up.{k}.{rest}", f"layers.{i}.{rest}"), (k, rest)
    assert ("head.fc.weight", "not used by the Swin-UNet") in model.pretrained_report.skipped


def test_download_weights_resumes_a_dropped_transfer(tmp_path, swin_t_bytes):
    out = tmp_path / SWIN_T_FILE
    with FakeServer({"/w.pth": swin_t_bytes}, drop_after=len(swin_t_bytes) // 2) as server:
        assert main(["download-weights", "swin-t", "--url", server.url("/w.pth"), "--out", str(out),
                     "--no-progress", "--retries", "1"]) == 0
    assert server.requests[1]["headers"]["Range"] == f"bytes={len(swin_t_bytes) // 2}-"
    assert out.read_bytes() == swin_t_bytes


def test_download_weights_offline_says_what_to_download_and_where(tmp_path, capsys):
    out = tmp_path / "results" / "pretrained" / SWIN_T_FILE
    url = closed_port_url(f"/{SWIN_T_FILE}")
    assert main(["download-weights", "swin-t", "--url", url, "--out", str(out), "--retries", "0"]) == 2
    err = capsys.readouterr().err
    assert url in err and str(out.resolve()) in err and "ImageNet Swin-T" in err
    assert "Traceback" not in err and not out.exists()


def test_download_weights_refuses_a_file_that_is_not_swin_t(tmp_path, timm_sd, capsys):
    buffer = io.BytesIO()
    torch.save(timm_sd, buffer)  # a tiny Swin (embed_dim 12), not Swin-T
    out = tmp_path / SWIN_T_FILE
    with FakeServer({"/w.pth": buffer.getvalue()}) as server:
        assert main(["download-weights", "swin-t", "--url", server.url("/w.pth"), "--out", str(out),
                     "--no-progress"]) == 2
    assert "not the ImageNet Swin-T (patch_embed.proj.weight: (12, 3, 4, 4)" in capsys.readouterr().err


def test_unresolved_imagenet_says_how_to_get_the_file():
    with pytest.raises(ConfigError, match="advmim download-weights swin-t --out FILE"):
        build_model("swin_unet", 4, 64, pretrained="imagenet", **DIMS)


@pytest.mark.slow
def test_workflow_rule_downloads_the_weights_from_the_configured_url(tmp_path, swin_t_bytes):
    from tests.workflow_utils import snakemake, tiny_config, write_config

    config = tiny_config(tmp_path / "results")
    with FakeServer({f"/{SWIN_T_FILE}": swin_t_bytes}) as server:
        config["models"]["swin_unet"].update(pretrained="imagenet", pretrained_url=server.url(f"/{SWIN_T_FILE}"),
                                             pretrained_sha256=hashlib.sha256(swin_t_bytes).hexdigest())
        configfile = write_config(tmp_path / "tiny.yaml", config)
        target = tmp_path / "results" / "pretrained" / SWIN_T_FILE
        done = snakemake(tmp_path, configfile, "--cores", "1", str(target))
        assert done.returncode == 0, done.stderr[-3000:]
    assert target.read_bytes() == swin_t_bytes and len(server.requests) == 1
    assert "Swin-T weights ready" in (tmp_path / "results" / "logs" / "download_weights.log").read_text()
