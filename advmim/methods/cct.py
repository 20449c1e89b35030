"""CCT: cross-consistency training (Ouali et al., CVPR 2020), SSL4MIS ``train_cross_consistency_training_2D.py``.

A U-Net (``C``, reported) plus three auxiliary decoders (``aux``) that decode C's encoder
features after a perturbation each (feature noise, element-wise dropout p 0.3, feature drop).
As in SSL4MIS the consistency MSE back-propagates into the main decoder too;
``detach_main: true`` stops it there (the CCT paper's formulation).
"""

from __future__ import annotations

import torch

from advmim.blocks.losses import softmax_mse
from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.methods.catalog import (
    CONSISTENCY_DEFAULTS,
    CONSISTENCY_HELP,
    CONSISTENCY_RULES,
    MethodCard,
)
from advmim.methods.parts import (
    main_output_loss,
    ramped_weight,
    supervised_loss,
)
from advmim.models.heads import AuxDecoders

CARDS = (
    MethodCard("cct", "CCT",
        default_params={**CONSISTENCY_DEFAULTS, "perturbations": ["noise", "dropout", "drop"],
                        "dropout_p": 0.3,       # SSL4MIS CCT: F.dropout(p=0.3), element-wise
                        "detach_main": False},  # SSL4MIS: main decoder gets the consistency grad
        param_rules={**CONSISTENCY_RULES, "dropout_p": (0.0, 1.0)},
        param_help={**CONSISTENCY_HELP,
                    "perturbations": "one auxiliary decoder per perturbation: noise, dropout, "
                                     "drop (feature drop)",
                    "dropout_p": "p of the element-wise dropout perturbation",
                    "detach_main": "stop the consistency gradient at the main decoder (CCT "
                                   "paper; SSL4MIS does not)"}),
)


@register("cct")
class CCT(Method):
    """Supervised loss on all decoders (labeled); MSE of each aux to the main softmax (unlabeled)."""

    def build_networks(self):
        net = self.model("unet")
        unet = self.settings.get("models", {}).get("unet", {})
        aux = AuxDecoders(
            net.channels, self.num_classes, self.params["perturbations"],
            dropout=unet.get("decoder_dropout", 0.0), upsample=unet.get("upsample", "bilinear"),
            dropout_p=self.params["dropout_p"],
        )
        return {"C": net, "aux": aux}

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        x = torch.cat([batch.xl, batch.xu], dim=0)
        feats = self.nets["C"].encode(x)
        main = self.nets["C"].decode(feats)
        aux = self.nets["aux"](feats)
        sup = supervised_loss([o[:n] for o in [main, *aux]], batch.yl, self.params["sup_scale"])
        target = main[n:].detach() if self.params["detach_main"] else main[n:]
        cons = sum(softmax_mse(o[n:], target) for o in aux) / len(aux)
        w = ramped_weight(self, iteration)
        loss = sup + w * cons
        self.update(loss, ["C", "aux"])
        return {"loss": loss.item(), "sup": sup.item(), "sup_main": main_output_loss(main[:n], batch.yl),
                "consistency": cons.item(), "consistency_weight": w}
