"""Segmentation networks (U-Net, Swin-UNet), masked branch, discriminator, registry."""

import pytest
import torch

from advmim.errors import ConfigError
from advmim.models import build_discriminator, build_model, model_params
from advmim.models import unet as unet_mod

torch.set_num_threads(2)

TINY_SWIN = dict(embed_dim=12, depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 4), window_size=4)
PAPER_SWIN = dict(
    embed_dim=96, depths=(2, 2, 2, 2), num_heads=(3, 6, 12, 24), window_size=7, drop_path_rate=0.2
)


def tiny(name, size=32, classes=4):
    torch.manual_seed(0)
    params = TINY_SWIN if name == "swin_unet" else {"channels": (4, 8, 8, 16, 16)}
    return build_model(name, classes, size, **params)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", ["unet", "swin_unet"])
@pytest.mark.parametrize("size,classes", [(32, 2), (64, 4), (96, 3)])
def test_output_shapes(name, size, classes):
    model = tiny(name, size, classes)
    x = torch.randn(2, 1, size, size)
    assert model(x).shape == (2, classes, size, size)
    logits, masked = model.forward_masked(x, 0.7, 16)
    assert logits.shape == masked.shape == (2, classes, size, size)


@pytest.mark.parametrize("name", ["unet", "swin_unet"])
def test_forward_skips_masked_branch(name, monkeypatch):
    model = tiny(name)
    calls = []
    monkeypatch.setattr(
        model, "mask_features" if name == "unet" else "mask_tokens", lambda *a: calls.append(a)
    )
    model(torch.randn(2, 1, 32, 32)).sum().backward()
    assert calls == [] and model.mask_token.grad is None


@pytest.mark.parametrize("name", ["unet", "swin_unet"])
def test_forward_masked_trains_mask_token_and_differs(name):
    model = tiny(name).train()
    logits, masked = model.forward_masked(torch.randn(2, 1, 32, 32), 0.7, 16)
    assert not torch.allclose(logits, masked)
    masked.sum().backward()
    assert model.mask_token.grad is not None and model.mask_token.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["unet", "swin_unet"])
def test_concatenated_batch_matches_forward_in_eval(name):
    model = tiny(name).eval()
    x = torch.randn(3, 1, 32, 32)
    with torch.no_grad():
        ref = model(x)
        logits, masked = model.forward_masked(x, 0.5, 16)
        _, unmasked = model.forward_masked(x, 0.0, 16)  # ratio 0: masked branch == original
    torch.testing.assert_close(logits, ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(unmasked, ref, rtol=1e-4, atol=1e-5)
    # each sample's masked output depends only on that sample (per-sample masks, own skips)
    with torch.no_grad():
        _, single = model.forward_masked(x[:1], 0.5, 16, torch.Generator().manual_seed(1))
        _, batch = model.forward_masked(
            x[:1].repeat(2, 1, 1, 1), 0.5, 16, torch.Generator().manual_seed(1)
        )
    torch.testing.assert_close(batch[:1], single, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(batch[0], batch[1])  # different masks per sample


@pytest.mark.parametrize("name", ["unet", "swin_unet"])
def test_masked_branch_seeded(name):
    model = tiny(name).eval()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        a = model.forward_masked(x, 0.7, 16, torch.Generator().manual_seed(5))[1]
        b = model.forward_masked(x, 0.7, 16, torch.Generator().manual_seed(5))[1]
        c = model.forward_masked(x, 0.7, 16, torch.Generator().manual_seed(6))[1]
    assert torch.equal(a, b) and not torch.allclose(a, c)


def test_unet_masks_first_features(monkeypatch):
    model = tiny("unet").eval()
    seen = []
    monkeypatch.setattr(
        unet_mod, "block_mask", lambda *a, **k: seen.append(a) or torch.ones(a[0], 1, a[1], a[2])
    )
    x = torch.randn(2, 1, 32, 32)
    f0 = model.encoder.stem(x)
    out = model.mask_features(f0, torch.ones(2, 1, 32, 32))
    assert torch.allclose(out, model.mask_token.expand_as(f0))
    with torch.no_grad():
        _, masked = model.forward_masked(x, 0.7, 16)
        _, masked2 = model.forward_masked(torch.randn(2, 1, 32, 32), 0.7, 16)
    assert seen[0][:5] == (2, 32, 32, 16, 0.7)
    torch.testing.assert_close(masked, masked2)  # fully masked: input no longer matters


def test_unet_encode_decode_pieces():
    model = tiny("unet").eval()
    x = torch.randn(1, 1, 32, 32)
    feats = model.encode(x)
    assert [f.shape[1] for f in feats] == [4, 8, 8, 16, 16]
    logits, stages = model.decode(feats, return_stages=True)
    assert len(stages) == 4 and stages[-1].shape[-1] == 32
    torch.testing.assert_close(logits, model(x))


def test_paper_size_parameter_counts_and_forward():
    unet = build_model("unet", 4, 224)
    assert 1.78e6 < n_params(unet) < 1.84e6  # SSL4MIS U-Net (bilinear up): ~1.81M
    assert 1.9e6 < n_params(build_model("unet", 4, 224, upsample="transpose")) < 2.0e6
    swin = build_model("swin_unet", 4, 224, **PAPER_SWIN).eval()
    core = n_params(swin) - swin.mask_token.numel()
    assert 26.5e6 < core < 28e6  # Swin-UNet (Swin-T dims): ~27.2M
    assert swin.mask_token.shape == (1, 56 * 56, 96)
    with torch.no_grad():
        assert swin(torch.randn(1, 1, 224, 224)).shape == (1, 4, 224, 224)


def test_swin_small_grids_clamp_window():
    model = build_model(
        "swin_unet", 2, 64, embed_dim=12, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2), window_size=7
    )  # grids 16, 8, 4, 2
    assert model(torch.randn(1, 1, 64, 64)).shape == (1, 2, 64, 64)


def test_discriminator_shapes():
    d = build_discriminator(4)
    assert d(torch.rand(2, 4, 64, 64)).shape == (2, 1, 2, 2)
    assert d(torch.rand(1, 4, 16, 16)).shape == (1, 1, 1, 1)
    assert build_discriminator(3, base=8)(torch.rand(1, 3, 224, 224)).shape == (1, 1, 7, 7)
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 1]


def test_registry_errors():
    with pytest.raises(ConfigError, match="swin_unet, unet"):
        build_model("vnet", 4, 64)
    with pytest.raises(ConfigError, match="unknown parameter"):
        build_model("unet", 4, 64, depth=3)
    with pytest.raises(ConfigError, match="divisible"):
        build_model("unet", 4, 40)
    with pytest.raises(ConfigError, match="divisible"):
        build_model("swin_unet", 4, 40)
    assert "embed_dim" in model_params("swin_unet") and "channels" in model_params("unet")


def test_swin_logits_equal_head_of_full_resolution_expansion():
    """to_logits (norm + head before the pixel shuffle) is head(final_expand(x)), gradients too."""
    net = tiny("swin_unet", size=64)
    x = torch.randn(2, 16, 16, 12, requires_grad=True)
    expected = net.head(net.final_expand(x).permute(0, 3, 1, 2))
    (g_expected,) = torch.autograd.grad(expected.square().sum(), x)
    got = net.to_logits(x)
    (g_got,) = torch.autograd.grad(got.square().sum(), x)
    assert got.shape == (2, 4, 64, 64)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(g_got, g_expected, atol=1e-4)


@pytest.mark.parametrize("channels_last", [True, False])
def test_method_networks_memory_layout(channels_last, tiny_settings):
    from advmim.methods import get_method

    settings = tiny_settings("ctct", channels_last=channels_last)
    method = get_method("ctct")(settings, torch.device("cpu"))
    weight = method.nets["C"].encoder.stem[4].weight  # a 3x3 conv with several input channels
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    assert weight.is_contiguous(memory_format=fmt)
    assert not weight.is_contiguous(
        memory_format=torch.contiguous_format if channels_last else torch.channels_last
    )


def test_advmim_discriminators_take_the_configured_width(tiny_settings):
    from advmim.methods import get_method

    assert build_discriminator(4).net[0].out_channels == 64  # the authors' width by default
    settings = tiny_settings("advmim")
    settings["models"]["discriminator"] = {"base": 8}
    method = get_method("advmim")(settings, torch.device("cpu"))
    assert {method.nets[d].net[0].out_channels for d in ("D_S", "D_C")} == {8}
    assert method.nets["D_S"].net[-1].in_channels == 64  # 8 -> 16 -> 32 -> 64 -> 1
    with pytest.raises(ConfigError, match="discriminator: unknown parameter"):
        build_discriminator(4, width=8)
