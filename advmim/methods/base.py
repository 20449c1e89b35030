"""The Method base class: networks, optimisers and one training step; the loop lives in train/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from advmim.blocks.sgd import SGD
from advmim.errors import ConfigError
from advmim.models import build_discriminator, build_model


@dataclass
class Batch:
    """One iteration's data: labeled images/labels and (optionally) unlabeled images."""

    xl: torch.Tensor
    yl: torch.Tensor
    xu: torch.Tensor | None = None


class Method:
    """Base class of every method.

    Subclasses set the class attributes, build their networks in :meth:`build_networks` and
    implement :meth:`train_step`, calling :meth:`update` for each optimisation step.
    """

    # Metadata: every method gets these from its card (``CARDS`` at the top of its module,
    # advmim.methods.catalog.MethodCard) when it registers.
    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    group: ClassVar[str] = "semi"  # lower | semi | ours | upper (table grouping)
    default_params: ClassVar[dict] = {}
    # Optional rules per parameter: (low, high) closed range, or a tuple of allowed strings;
    # every parameter is also checked against its default's type (advmim.values).
    param_rules: ClassVar[dict[str, tuple]] = {}
    param_help: ClassVar[dict[str, str]] = {}  # one line per parameter (`advmim methods NAME`)
    # Networks evaluated and reported: key in self.nets -> table suffix ("" = no suffix).
    reported: ClassVar[dict[str, str]] = {"C": ""}
    networks: ClassVar[dict[str, str]] = {"C": "unet"}  # architecture of each reported network
    uses_unlabeled: ClassVar[bool] = True
    all_labels: ClassVar[bool] = False  # train on every training slice's label (upper bound)

    def __init__(self, settings: dict, device: torch.device):
        self.settings = settings
        self.params = settings["method_params"]
        problems = self.param_problems(self.params)
        if problems:
            raise ConfigError(f"method {self.name!r}: invalid parameters: " + "; ".join(problems))
        self.device = device
        self.num_classes = settings["num_classes"]
        # channels-last: oneDNN's convolutions run faster on NHWC (benchmarks/README.md)
        layout = torch.channels_last if settings["channels_last"] else torch.contiguous_format
        self.nets: dict[str, nn.Module] = {
            k: v.to(device, memory_format=layout) for k, v in self.build_networks().items()
        }
        if settings["compile"]:  # in place: the state-dict keys stay those of the network
            for net in self.nets.values():
                net.compile()
        self.frozen: set[str] = set(self.frozen_networks())
        self.scaler = None  # fp16 loss scaler, set by the training loop on GPU
        self.optimizers = {
            name: SGD(  # torch.optim.SGD's update without its torch._dynamo import (blocks/sgd.py)
                net.parameters(),
                lr=settings["lr"],
                momentum=settings["momentum"],
                weight_decay=settings["weight_decay"],
            )
            for name, net in self.nets.items()
            if name not in self.frozen
        }

    @classmethod
    def param_problems(cls, params: dict) -> list[str]:
        """``key: problem`` for each unknown or invalid entry of ``params`` (the card's check)."""
        from advmim.methods.catalog import MethodCard

        return MethodCard.of_class(cls.name, cls).param_problems(params)

    # --- to implement -------------------------------------------------------------------------
    def build_networks(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        """One iteration: compute losses, call :meth:`update`; return loss values to log."""
        raise NotImplementedError

    def frozen_networks(self) -> list[str]:
        """Networks without an optimiser (e.g. EMA teachers)."""
        return []

    # --- shared helpers -----------------------------------------------------------------------
    def model(self, arch: str, **overrides) -> nn.Module:
        """Build a segmentation network of architecture ``arch`` from the run's model settings."""
        params = dict(self.settings.get("models", {}).get(arch, {}))
        params.update(overrides)
        net = build_model(arch, self.num_classes, self.settings["img_size"], **params)
        net.architecture = {"name": arch, "params": params}  # stored in model.pt for inference
        return net

    def discriminator(self) -> nn.Module:
        """A patch discriminator with the run's ``models.discriminator`` settings."""
        settings = self.settings.get("models", {}).get("discriminator", {})
        return build_discriminator(self.num_classes, **settings)

    def update(self, loss: torch.Tensor, names: list[str], retain_graph: bool = False) -> None:
        """Zero grads, backpropagate ``loss``, clip and step the optimisers of ``names``.

        Gradients are computed for the parameters of ``names`` only: a network outside ``names``
        that ``loss`` passes through (a discriminator in a generator loss) gets no weight
        gradients. ``retain_graph`` keeps the graph for a later update that shares part of it.
        """
        for name in names:
            self.optimizers[name].zero_grad(set_to_none=True)
        scaler = self.scaler
        params = [q for name in names for q in self.nets[name].parameters() if q.requires_grad]
        torch.autograd.backward(
            scaler.scale(loss) if scaler else loss, inputs=params, retain_graph=retain_graph
        )
        clip = self.settings["grad_clip"]
        for name in names:
            if scaler:
                scaler.unscale_(self.optimizers[name])
            if clip:
                nn.utils.clip_grad_norm_(self.nets[name].parameters(), clip)
            if scaler:
                scaler.step(self.optimizers[name])
            else:
                self.optimizers[name].step()
        if scaler:
            scaler.update()

    def set_lr(self, lr: float) -> None:
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr

    def train_mode(self) -> None:
        for name, net in self.nets.items():
            net.train(name not in self.frozen)

    def eval_networks(self) -> dict[str, nn.Module]:
        return {key: self.nets[key] for key in self.reported}

    def architectures(self) -> dict[str, dict]:
        """``{key: {"name", "params"}}`` of the reported networks built by :meth:`model`."""
        return {key: net.architecture for key, net in self.eval_networks().items()
                if hasattr(net, "architecture")}

    def state_dict(self) -> dict:
        state = {
            "nets": {k: v.state_dict() for k, v in self.nets.items()},
            "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
        }
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        for k, v in state["nets"].items():
            self.nets[k].load_state_dict(v)
        for k, v in state["optimizers"].items():
            self.optimizers[k].load_state_dict(v)
        if self.scaler is not None and "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
