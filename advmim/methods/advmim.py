"""AdvMIM: CTCT + a masked domain (whole-mask prediction) + an adversarial domain alignment.

Every term of shared spec method.md; the switches turn it into its ablations (configuration,
not code copies): with all four switches off it is cross teaching with AdvMIM's loss weights.
"""

from __future__ import annotations

import torch

from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.train.losses import ce_loss, dice_loss, lsgan_loss, pseudo_labels, weighted_ce
from advmim.train.seeding import derive_seed, torch_generator


@register("advmim")
class AdvMIM(Method):
    display_name = "AdvMIM"
    group = "ours"
    reported = {"S": "S", "C": "C"}
    default_params = {
        "mask_ratio": 0.7,
        "mask_block": 32,          # pixels at network input size
        "masked_labeled": True,    # masked-domain loss on labeled images
        "masked_unlabeled": True,  # masked-domain loss on unlabeled images (pseudo-labels)
        "confidence_weights": True,  # weight masked unlabeled CE by pseudo-label confidence
        "adversarial": True,       # discriminators align masked to original predictions
        "mask_cnn": True,          # apply the masked branch to the CNN too
        "cross_weight": 0.1,
        "adv_weight": 0.001,
        "disc_weight": 0.1,
    }

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

    def _forward(self, key: str, x: torch.Tensor, masked: bool, generator):
        net = self.nets[key]
        if masked:
            return net.forward_masked(
                x, self.params["mask_ratio"], self.params["mask_block"], generator=generator
            )
        return net(x), None

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        p = self.params
        n = batch.xl.shape[0]
        x = torch.cat([batch.xl, batch.xu], dim=0)
        gen = torch_generator(derive_seed(self.settings["seed"], iteration, "mask"), x.device)
        s_all, s_m = self._forward("S", x, self.masking, gen)
        c_all, c_m = self._forward("C", x, self.masking and p["mask_cnn"], gen)
        s_l, s_u, c_l, c_u = s_all[:n], s_all[n:], c_all[:n], c_all[n:]
        y_s, w_s = pseudo_labels(s_u)
        y_c, w_c = pseudo_labels(c_u)

        terms = {
            "sup_S": ce_loss(s_l, batch.yl) + dice_loss(s_l, batch.yl),
            "sup_C": ce_loss(c_l, batch.yl) + dice_loss(c_l, batch.yl),
            "cross": p["cross_weight"] * (dice_loss(s_u, y_c) + dice_loss(c_u, y_s)),
        }
        if not p["confidence_weights"]:
            w_s, w_c = torch.ones_like(w_s), torch.ones_like(w_c)
        if s_m is not None:
            s_ml, s_mu = s_m[:n], s_m[n:]
            if p["masked_labeled"]:
                terms["mask_l_S"] = ce_loss(s_ml, batch.yl)
            if p["masked_unlabeled"]:
                terms["mask_u_S"] = weighted_ce(s_mu, y_c, w_c)
            if p["adversarial"]:
                terms["adv_S"] = p["adv_weight"] * lsgan_loss(self.nets["D_S"](s_mu.softmax(1)), True)
        if c_m is not None:
            c_ml, c_mu = c_m[:n], c_m[n:]
            if p["masked_labeled"]:
                terms["mask_l_C"] = ce_loss(c_ml, batch.yl) + dice_loss(c_ml, batch.yl)
            if p["masked_unlabeled"]:
                terms["mask_u_C"] = weighted_ce(c_mu, y_s, w_s)
            if p["adversarial"]:
                terms["adv_C"] = p["adv_weight"] * lsgan_loss(self.nets["D_C"](c_mu.softmax(1)), True)
        loss = sum(terms.values())
        self.update(loss, ["S", "C"])
        logged = {"loss": loss.item(), **{k: v.item() for k, v in terms.items()}}

        if p["adversarial"]:
            pairs = [("D_S", s_l, s_m[n:])]
            if c_m is not None:
                pairs.append(("D_C", c_l, c_m[n:]))
            d_loss = p["disc_weight"] * sum(
                lsgan_loss(self.nets[d](real.detach().softmax(1)), True)
                + lsgan_loss(self.nets[d](fake.detach().softmax(1)), False)
                for d, real, fake in pairs
            )
            self.update(d_loss, [d for d, _, _ in pairs])
            logged["disc"] = d_loss.item()
        return logged
