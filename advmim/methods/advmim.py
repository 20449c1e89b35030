"""AdvMIM: CTCT + a masked domain (whole-mask prediction) + an adversarial domain alignment.

Every term of the authors' ``train.py`` (zlheui/AdvMIM); the switches turn it into its
ablations (configuration, not code copies): with all four switches off it is cross teaching
with AdvMIM's loss weights. Pass structure as the authors': each network is called on the
labeled and then on the unlabeled batch (S(xl), C(xl), S(xu), C(xu)), and each call runs the
original and the masked branch as separate passes, so BatchNorm statistics are per call and
branch. ``mask_block`` is in pixels at the paper's 224-px input and scales with ``img_size``.
"""

from __future__ import annotations

import torch

from advmim.blocks.losses import ce_loss, dice_loss, lsgan_loss, pseudo_labels, weighted_ce
from advmim.blocks.seeding import derive_seed, torch_generator
from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.methods.catalog import INF, SWIN_AND_CNN, MethodCard
from advmim.models.masking import scaled_block

CARDS = (
    MethodCard("advmim", "AdvMIM", group="ours", **SWIN_AND_CNN,
        default_params={
            "mask_ratio": 0.7,
            "mask_block": 32,            # pixels at the paper's 224-px input (scaled to img_size)
            "masked_labeled": True,      # masked-domain loss on labeled images
            "masked_unlabeled": True,    # masked-domain loss on unlabeled images (pseudo-labels)
            "confidence_weights": True,  # weight masked unlabeled CE by pseudo-label confidence
            "adversarial": True,         # discriminators align masked to original predictions
            "mask_cnn": True,            # apply the masked branch to the CNN too
            "cross_weight": 0.1,
            "adv_weight": 0.001,
            "disc_weight": 0.1,
        },
        param_rules={"mask_ratio": (0.0, 1.0), "mask_block": (1, 224), "cross_weight": (0.0, INF),
                     "adv_weight": (0.0, INF), "disc_weight": (0.0, INF)},
        param_help={
            "mask_ratio": "fraction of mask blocks masked (exact count per image)",
            "mask_block": "mask block side in pixels at the paper's 224-px input (scaled to img_size)",
            "masked_labeled": "masked-domain CE (+ Dice for the CNN) on labeled images",
            "masked_unlabeled": "masked-domain CE on the other network's pseudo-labels",
            "confidence_weights": "weight that CE by the pseudo-labels' confidence",
            "adversarial": "discriminators align masked to original predictions",
            "mask_cnn": "masked branch, its losses and discriminator for the CNN too",
            "cross_weight": "weight of the cross-teaching Dice (constant)",
            "adv_weight": "weight of each network's adversarial term",
            "disc_weight": "factor of the discriminators' loss",
        }),
)


@register("advmim")
class AdvMIM(Method):

    def build_networks(self):
        nets = {"S": self.model("swin_unet"), "C": self.model("unet")}
        if self.params["adversarial"]:
            nets["D_S"] = self.discriminator()
            if self.params["mask_cnn"]:
                nets["D_C"] = self.discriminator()
        return nets

    @property
    def masking(self) -> bool:
        return self.params["masked_labeled"] or self.params["masked_unlabeled"] or self.params["adversarial"]

    @property
    def mask_block_px(self) -> int:
        """The mask block in pixels at this run's input size (a multiple of S's patch size)."""
        patch = self.nets["S"].patch_size
        return scaled_block(self.params["mask_block"], self.settings["img_size"], patch)

    def _forward(self, key: str, x: torch.Tensor, masked: bool, generator):
        """(logits, masked logits or None) of one network call."""
        net = self.nets[key]
        if masked:
            return net.forward_masked(
                x, self.params["mask_ratio"], self.mask_block_px, generator=generator
            )
        return net(x), None

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        p = self.params
        gen = torch_generator(derive_seed(self.settings["seed"], iteration, "mask"), batch.xl.device)
        mask_s, mask_c = self.masking, self.masking and p["mask_cnn"]
        s_l, s_ml = self._forward("S", batch.xl, mask_s, gen)
        c_l, c_ml = self._forward("C", batch.xl, mask_c, gen)
        s_u, s_mu = self._forward("S", batch.xu, mask_s, gen)
        c_u, c_mu = self._forward("C", batch.xu, mask_c, gen)
        y_s, w_s = pseudo_labels(s_u)
        y_c, w_c = pseudo_labels(c_u)

        terms = {
            "sup_S": ce_loss(s_l, batch.yl) + dice_loss(s_l, batch.yl),
            "sup_C": ce_loss(c_l, batch.yl) + dice_loss(c_l, batch.yl),
            "cross": p["cross_weight"] * (dice_loss(s_u, y_c) + dice_loss(c_u, y_s)),
        }
        if not p["confidence_weights"]:
            w_s, w_c = torch.ones_like(w_s), torch.ones_like(w_c)
        # (discriminator, real map, its output on the masked unlabeled map) per adversarial pair
        adversarial = []
        for key, out_l, ml, mu, y_other, w_other in (
            ("S", s_l, s_ml, s_mu, y_c, w_c), ("C", c_l, c_ml, c_mu, y_s, w_s)
        ):
            if ml is None:
                continue
            if p["masked_labeled"]:
                term = ce_loss(ml, batch.yl)
                if key == "C":  # the CNN's masked labeled term adds Dice; the transformer's is CE
                    term = term + dice_loss(ml, batch.yl)
                terms[f"mask_l_{key}"] = term
            if p["masked_unlabeled"]:
                terms[f"mask_u_{key}"] = weighted_ce(mu, y_other, w_other)
            if p["adversarial"]:
                disc = f"D_{key}"
                d_fake = self.nets[disc](mu.softmax(1))
                terms[f"adv_{key}"] = p["adv_weight"] * lsgan_loss(d_fake, True)
                adversarial.append((disc, out_l, d_fake))
        loss = sum(terms.values())
        # the discriminator's output on the fake maps is shared with its own update below
        # (its weights do not change in between), so the graph is kept for that backward
        self.update(loss, ["S", "C"], retain_graph=bool(adversarial))
        logged = {"loss": loss.item(), **{k: v.item() for k, v in terms.items()}}

        if adversarial:
            d_loss = p["disc_weight"] * sum(
                lsgan_loss(self.nets[d](real.detach().softmax(1)), True)
                + lsgan_loss(d_fake, False)
                for d, real, d_fake in adversarial
            )
            self.update(d_loss, [d for d, _, _ in adversarial])
            logged["disc"] = d_loss.item()
        return logged
