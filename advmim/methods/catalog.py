"""Method cards: what a method is, without importing torch (name, display name, table group,
networks and their architectures, data it trains on, parameters with defaults, rules and help).

Each method module, built-in or plug-in, writes its cards at its top: ``CARDS =
(MethodCard(...), ...)``, an expression of the names defined here only. :func:`advmim.methods.
register` gives a class its card's values as class attributes. Built-in cards are also read
without importing their module (:func:`builtin_cards` evaluates that one expression), so the
Snakemake process, config validation, the plan and the report never import torch.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path

INF = float("inf")
GROUPS = ("lower", "semi", "ours", "upper")  # table order


@dataclass(frozen=True)
class MethodCard:
    """A method's metadata. ``reported``: network key -> table suffix ("" = none)."""

    name: str
    display_name: str
    module: str = ""  # module defining the Method class (built-ins: under advmim.methods)
    group: str = "semi"
    reported: dict = field(default_factory=lambda: {"C": ""})
    # architecture (advmim.models) of each reported network: key -> "unet" | "swin_unet"
    networks: dict = field(default_factory=lambda: {"C": "unet"})
    uses_unlabeled: bool = True
    all_labels: bool = False  # trains on every training slice's label (upper bound)
    default_params: dict = field(default_factory=dict)
    # (low, high) closed range or a tuple of allowed strings; the default's type is checked too
    param_rules: dict = field(default_factory=dict)
    param_help: dict = field(default_factory=dict)

    ATTRIBUTES = ("display_name", "group", "reported", "networks", "uses_unlabeled", "all_labels",
                  "default_params", "param_rules", "param_help")

    def __post_init__(self) -> None:
        if set(self.networks) != set(self.reported):
            raise ValueError(f"method {self.name!r}: networks {sorted(self.networks)} must name the "
                             f"architecture of each reported network {sorted(self.reported)}")
        if self.group not in GROUPS:
            raise ValueError(f"method {self.name!r}: group {self.group!r} is not one of {', '.join(GROUPS)}")

    @property
    def architectures(self) -> set[str]:
        """The architectures it trains and reports (``swin_unet``: pretrained weights apply)."""
        return set(self.networks.values())

    @classmethod
    def of_class(cls, name: str, method_class) -> MethodCard:
        """The card a registered Method class carries as class attributes."""
        values = {a: getattr(method_class, a) for a in cls.ATTRIBUTES}
        return cls(name=name, module=method_class.__module__, **values)

    def param_problems(self, params: dict) -> list[str]:
        """``key: problem`` for each unknown or invalid entry of ``params``."""
        from advmim.values import value_problem

        problems = []
        for key, value in params.items():
            if key not in self.default_params:
                problems.append(f"{key}: unknown parameter of {self.name}; valid: "
                                f"{', '.join(sorted(self.default_params))}")
            elif (why := value_problem(value, self.default_params[key], self.param_rules.get(key))):
                problems.append(f"{key}: {why}")
        return problems


# --- parameter groups several methods share ----------------------------------------------------
CONSISTENCY_DEFAULTS = {"consistency": 0.1, "rampup_fraction": 1.0, "sup_scale": 0.5}
CONSISTENCY_RULES = {"consistency": (0.0, INF), "rampup_fraction": (0.0, INF), "sup_scale": (0.0, INF)}
CONSISTENCY_HELP = {
    "consistency": "weight of the unsupervised term once ramped up",
    "rampup_fraction": "fraction of the run over which that weight ramps up (SSL4MIS sigmoid; "
                       "1: its 200 x 150 of 30000 iterations)",
    "sup_scale": "factor of the supervised CE + Dice",
}
# ema_horizon_fraction null: SSL4MIS's absolute decay (0.99: a 100-iteration horizon, 1/300 of
# its 30000 iterations); a number: a scale adaptation (docs/methods.md "Scale adaptations")
TEACHER_DEFAULTS = {**CONSISTENCY_DEFAULTS, "ema_decay": 0.99, "ema_horizon_fraction": None}
TEACHER_RULES = {**CONSISTENCY_RULES, "ema_decay": (0.0, 1.0), "ema_horizon_fraction": (0.0, 1.0)}
TEACHER_HELP = {**CONSISTENCY_HELP, "ema_decay": "EMA decay of the teacher's weights",
                "ema_horizon_fraction": "null: ema_decay as published; a number: the decay "
                                        "1 - 1 / (fraction x iterations), a horizon of that "
                                        "fraction of the run (overrides ema_decay)"}
CPS_INITS = ("default", "kaiming_xavier")
UAMT_NORMS = ("ssl4mis", "mean")
SUPERVISED_ONLY = {"uses_unlabeled": False}
# the two networks of the co-training methods, as reported: Swin-UNet (S) and U-Net (C)
SWIN_AND_CNN = {"reported": {"S": "S", "C": "C"}, "networks": {"S": "swin_unet", "C": "unet"}}


def module_cards(path: Path, module: str) -> dict[str, MethodCard]:
    """The cards of a method module, read without importing it: its top-level ``CARDS = ...``
    expression alone, evaluated with the names of this module (nothing else is run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = [node.value for node in tree.body if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == "CARDS" for t in node.targets)]
    if not found:
        return {}
    names = {"MethodCard": MethodCard, **{k: v for k, v in globals().items() if k.isupper()}}
    code = compile(ast.Expression(found[0]), str(path), "eval")
    cards = eval(code, {"__builtins__": {}}, names)  # noqa: S307 (the package's own source)
    return {c.name: replace(c, module=module) for c in cards}


@functools.cache
def builtin_cards() -> dict[str, MethodCard]:
    """``{name: card}`` of every method module in this package (found by their ``CARDS``)."""
    out: dict[str, MethodCard] = {}
    for path in sorted(Path(__file__).parent.glob("*.py")):
        out.update(module_cards(path, f"{__package__}.{path.stem}"))
    return out


