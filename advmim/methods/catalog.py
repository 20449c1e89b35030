"""What each built-in method is, without importing torch: name, display name, table group,
reported networks, data it trains on, and its parameters (defaults, rules, one-line help).

This is the one place these are written. The Snakemake process, config validation, the plan
and the report read these cards only (``snakemake -n`` never imports torch); the Method
classes get the same values as class attributes when they register (:func:`advmim.methods.
register`). A method defined outside the package declares them as class attributes instead
(docs/adding-a-method.md); its card is then read from the class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

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
    uses_unlabeled: bool = True
    all_labels: bool = False  # trains on every training slice's label (upper bound)
    default_params: dict = field(default_factory=dict)
    # (low, high) closed range or a tuple of allowed strings; the default's type is checked too
    param_rules: dict = field(default_factory=dict)
    param_help: dict = field(default_factory=dict)

    ATTRIBUTES = ("display_name", "group", "reported", "uses_unlabeled", "all_labels",
                  "default_params", "param_rules", "param_help")

    @classmethod
    def of_class(cls, name: str, method_class) -> MethodCard:
        """The card of a Method class that declares its metadata as class attributes."""
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


def _card(name: str, display_name: str, module: str, **kw) -> MethodCard:
    return MethodCard(name=name, display_name=display_name, module=f"advmim.methods.{module}", **kw)


_SUPERVISED = {"uses_unlabeled": False}
BUILTIN: dict[str, MethodCard] = {c.name: c for c in (
    _card("supervised_unet", "U-Net (labeled only)", "supervised", group="lower", **_SUPERVISED),
    _card("supervised_swin", "Swin-UNet (labeled only)", "supervised", group="lower",
          reported={"S": ""}, **_SUPERVISED),
    _card("full_unet", "U-Net (all labels)", "supervised", group="upper", all_labels=True,
          **_SUPERVISED),
    _card("full_swin", "Swin-UNet (all labels)", "supervised", group="upper", all_labels=True,
          reported={"S": ""}, **_SUPERVISED),
    _card("mean_teacher", "Mean Teacher", "mean_teacher",
          # SSL4MIS: consistency_loss = 0 while iter_num < 1000 (of 30000)
          default_params={**TEACHER_DEFAULTS, "consistency_off_fraction": 1000 / 30000},
          param_rules={**TEACHER_RULES, "consistency_off_fraction": (0.0, 1.0)},
          param_help={**TEACHER_HELP, "consistency_off_fraction":
                      "consistency off for this first fraction of the run (SSL4MIS: 1000 of 30000)"}),
    _card("uamt", "UA-MT", "uamt",
          default_params={**TEACHER_DEFAULTS, "mc_passes": 8,
                          "threshold_ln_classes": False,   # SSL4MIS: ln 2 whatever the classes
                          "consistency_norm": "ssl4mis"},  # sum / (2 x masked pixels)
          param_rules={**TEACHER_RULES, "mc_passes": (2, 64), "consistency_norm": UAMT_NORMS},
          param_help={**TEACHER_HELP,
                      "mc_passes": "noisy teacher passes whose mean gives the uncertainty (even)",
                      "threshold_ln_classes": "threshold ramps to ln C instead of SSL4MIS's ln 2",
                      "consistency_norm": "ssl4mis: masked sum / (2 x masked pixels); mean: over "
                                          "pixels and classes"}),
    _card("entropy_min", "Entropy Minimisation", "entropy_min",
          default_params={**CONSISTENCY_DEFAULTS, "on_labeled": True},
          param_rules=CONSISTENCY_RULES,
          param_help={**CONSISTENCY_HELP,
                      "on_labeled": "entropy over the whole batch (SSL4MIS); false: unlabeled only"}),
    _card("ict", "ICT", "ict",
          default_params={**TEACHER_DEFAULTS, "ict_alpha": 0.2},
          param_rules={**TEACHER_RULES, "ict_alpha": (1e-6, INF)},
          param_help={**TEACHER_HELP, "ict_alpha": "mixup factors ~ Beta(alpha, alpha)"}),
    _card("cct", "CCT", "cct",
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
    _card("cps", "CPS", "cps",
          default_params={**CONSISTENCY_DEFAULTS, "cross_on_labeled": False, "init": "default"},
          param_rules={**CONSISTENCY_RULES, "init": CPS_INITS},
          param_help={**CONSISTENCY_HELP,
                      "cross_on_labeled": "pseudo-supervision on labeled images too (CPS paper; "
                                          "SSL4MIS: unlabeled only)",
                      "init": "default: PyTorch init (SSL4MIS); kaiming_xavier: the "
                              "re-initialisation SSL4MIS removed"}),
    _card("urpc", "URPC", "urpc",
          default_params={**CONSISTENCY_DEFAULTS,
                          # one per side output, coarse to fine (SSL4MIS: dropout, drop, noise)
                          "perturbations": ["dropout", "drop", "noise"],
                          "dropout_p": 0.5,              # SSL4MIS URPC: F.dropout(p=0.5)
                          "upsample_mode": "nearest"},   # side outputs to input size
          param_rules={**CONSISTENCY_RULES, "dropout_p": (0.0, 1.0),
                       "upsample_mode": ("nearest", "bilinear")},
          param_help={**CONSISTENCY_HELP,
                      "perturbations": "perturbation before each side output, coarse to fine",
                      "dropout_p": "p of the element-wise dropout perturbation",
                      "upsample_mode": "how side outputs reach the input size (SSL4MIS: nearest)"}),
    _card("dct", "Deep Co-Training", "dct", default_params=dict(CONSISTENCY_DEFAULTS),
          param_rules=CONSISTENCY_RULES, param_help=CONSISTENCY_HELP),
    _card("ctct", "CTCT", "ctct", reported={"S": "S", "C": "C"},
          default_params={"cross_weight": 0.1, "rampup_fraction": 1.0, "sup_scale": 0.5},
          param_rules={"cross_weight": (0.0, INF), "rampup_fraction": (0.0, INF),
                       "sup_scale": (0.0, INF)},
          param_help={"cross_weight": "weight of the cross-teaching Dice once ramped up",
                      "rampup_fraction": "fraction of the run over which that weight ramps up "
                                         "(SSL4MIS sigmoid)",
                      "sup_scale": "factor of each network's supervised CE + Dice"}),
    _card("advmim", "AdvMIM", "advmim", group="ours", reported={"S": "S", "C": "C"},
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
)}
BUILTIN = MappingProxyType(BUILTIN)
