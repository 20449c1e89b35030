"""Unoptimised reference of one AdvMIM step, structured like the authors' ``train.py``.

Calls in the authors' order, each network on its own input (NCHW, Swin-UNet's full-resolution
head): S(xl) and S_m(xl), C(xl) and C_m(xl) (one first conv block, then the two branches), the
same on xu, then the discriminators on each map separately. It uses the networks, weights and
masks of an :class:`advmim.methods.advmim.AdvMIM` instance (masks drawn from the same generator
in the same order), so with the same torch RNG state (dropout, drop-path) its loss terms and
updated weights equal the package's step in train mode too (tests/test_advmim_numerics.py).
Benchmark-only code: the package never imports it.
"""

from __future__ import annotations

import torch

from advmim.blocks.losses import ce_loss, dice_loss, lsgan_loss, pseudo_labels, weighted_ce
from advmim.blocks.seeding import derive_seed, torch_generator
from advmim.methods.base import Batch
from advmim.models.masking import block_mask, scaled_block, token_block_mask


def _swin(net, x, mask=None):
    """Swin-UNet forward as its authors wrote it: the final 4x patch expansion and its
    LayerNorm run at full resolution, then a 1x1 convolution to the classes."""
    tokens = net.embed(x)
    if mask is not None:
        tokens = net.mask_tokens(tokens, mask)
    x = net.final_expand(net.decode_tokens(*net.encode(tokens)))
    return net.head(x.permute(0, 3, 1, 2))


def _unet_pair(net, x, mask):
    """(original, masked) logits: the first conv block once, then each branch separately."""
    f0 = net.encoder.stem(x)
    original = net.decoder(net.encoder.from_stem(f0))
    return original, net.decoder(net.encoder.from_stem(net.mask_features(f0, mask)))


def _masks(method, x: torch.Tensor, gen):
    """The (S token mask, C pixel mask) of one call on ``x``, drawn as the package draws them."""
    p = method.params
    b, _, h, w = x.shape
    block = scaled_block(p["mask_block"], method.settings["img_size"], method.nets["S"].patch_size)
    m_s = token_block_mask(b, h, w, block, method.nets["S"].patch_size, p["mask_ratio"], gen, x.device)
    m_c = block_mask(b, h, w, block, p["mask_ratio"], gen, x.device)
    return m_s, m_c


def reference_terms(method, batch: Batch, iteration: int):
    """(terms, outputs): the nine AdvMIM loss terms and the maps the discriminator step needs.

    Supports the full method (all switches on, the paper setting). Masks are drawn in call
    order: S(xl), C(xl), S(xu), C(xu).
    """
    p = method.params
    S, C = method.nets["S"], method.nets["C"]
    D_S, D_C = method.nets["D_S"], method.nets["D_C"]
    gen = torch_generator(derive_seed(method.settings["seed"], iteration, "mask"), batch.xl.device)
    xl, yl, xu = batch.xl, batch.yl, batch.xu
    outs = {}
    for part, x in (("l", xl), ("u", xu)):
        m_s, m_c = _masks(method, x, gen)  # S's mask is drawn before C's, as in the package
        outs[f"s_{part}"] = _swin(S, x)
        outs[f"s_m{part}"] = _swin(S, x, m_s)
        outs[f"c_{part}"], outs[f"c_m{part}"] = _unet_pair(C, x, m_c)
    s_l, s_ml, s_u, s_mu = outs["s_l"], outs["s_ml"], outs["s_u"], outs["s_mu"]
    c_l, c_ml, c_u, c_mu = outs["c_l"], outs["c_ml"], outs["c_u"], outs["c_mu"]
    y_s, w_s = pseudo_labels(s_u)
    y_c, w_c = pseudo_labels(c_u)
    terms = {
        "sup_S": ce_loss(s_l, yl) + dice_loss(s_l, yl),
        "sup_C": ce_loss(c_l, yl) + dice_loss(c_l, yl),
        "cross": p["cross_weight"] * (dice_loss(s_u, y_c) + dice_loss(c_u, y_s)),
        "mask_l_S": ce_loss(s_ml, yl),
        "mask_u_S": weighted_ce(s_mu, y_c, w_c),
        "adv_S": p["adv_weight"] * lsgan_loss(D_S(torch.softmax(s_mu, 1)), True),
        "mask_l_C": ce_loss(c_ml, yl) + dice_loss(c_ml, yl),
        "mask_u_C": weighted_ce(c_mu, y_s, w_s),
        "adv_C": p["adv_weight"] * lsgan_loss(D_C(torch.softmax(c_mu, 1)), True),
    }
    return terms, {"s_l": s_l, "s_mu": s_mu, "c_l": c_l, "c_mu": c_mu}


def reference_disc_loss(method, outputs: dict) -> torch.Tensor:
    """L_D with each discriminator run separately on real and fake maps."""
    D_S, D_C = method.nets["D_S"], method.nets["D_C"]
    o = {k: v.detach() for k, v in outputs.items()}
    return method.params["disc_weight"] * (
        lsgan_loss(D_S(torch.softmax(o["s_l"], 1)), True)
        + lsgan_loss(D_S(torch.softmax(o["s_mu"], 1)), False)
        + lsgan_loss(D_C(torch.softmax(o["c_l"], 1)), True)
        + lsgan_loss(D_C(torch.softmax(o["c_mu"], 1)), False)
    )


def reference_step(method, batch: Batch, iteration: int) -> dict[str, float]:
    """A full training step (both updates) the reference way; returns the logged values."""
    terms, outputs = reference_terms(method, batch, iteration)
    loss = sum(terms.values())
    method.update(loss, ["S", "C"])
    logged = {"loss": loss.item(), **{k: v.item() for k, v in terms.items()}}
    d_loss = reference_disc_loss(method, outputs)
    method.update(d_loss, ["D_S", "D_C"])
    logged["disc"] = d_loss.item()
    return logged
