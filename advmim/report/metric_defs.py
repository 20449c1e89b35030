"""The table metrics, each defined once: its key in the metrics JSON, title, unit, direction
(higher or lower is better), display scale and valid range.

Adding a metric = one :class:`MetricDef` (here, or :func:`register_metric` from a plug-in) plus
its computation (per-volume, per-class values under the same key in the metrics JSON, written by
``advmim evaluate``). Every table format, the CSV, the validator and the summaries read these
definitions; optional metrics get columns only when the metrics files carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INF = float("inf")
MODES = ("paper", "strict")


@dataclass(frozen=True)
class MetricDef:
    """One metric. ``units``: metric mode -> unit (one entry ``"*"`` for every mode);
    ``scale``: display factor (Dice 0..1 shown in %); ``low``/``high``: valid stored range;
    ``hides_miss``: metric modes in which a missed structure scores the best value (paper-mode
    HD95 = 0), so a cell with a miss is never marked best."""

    key: str
    title: str
    direction: str  # "max" | "min"
    units: dict = field(default_factory=lambda: {"*": ""})
    scale: float = 1.0
    low: float = 0.0
    high: float = INF
    optional: bool = False
    hides_miss: tuple = ()

    def __post_init__(self):
        if self.direction not in ("max", "min"):
            raise ValueError(f"metric {self.key}: direction must be 'max' or 'min'")

    @property
    def arrow(self) -> str:
        return "↑" if self.direction == "max" else "↓"

    def unit(self, mode: str) -> str:
        return self.units.get(mode, self.units.get("*", ""))

    def header(self, mode: str) -> str:
        """``Dice (%) ↑``: title, unit in this metric mode, direction."""
        unit = self.unit(mode)
        return f"{self.title}{f' ({unit})' if unit else ''} {self.arrow}"

    def best(self, values):
        """The best of ``values`` (NaN ignored) by this metric's direction."""
        finite = [v for v in values if v == v]
        if not finite:
            return None
        return max(finite) if self.direction == "max" else min(finite)

    def in_range(self, value: float) -> bool:
        return self.low <= value <= self.high


_DISTANCE_UNITS = {"paper": "voxels", "strict": "mm"}
METRICS: dict[str, MetricDef] = {}


def register_metric(metric: MetricDef) -> MetricDef:
    """Add ``metric`` to the table metrics (a second definition of one key is refused)."""
    if metric.key in METRICS and METRICS[metric.key] != metric:
        raise ValueError(f"metric {metric.key!r} is already defined")
    METRICS[metric.key] = metric
    return metric


def unregister_metric(key: str) -> None:
    """Remove a metric added by :func:`register_metric` (tests, plug-in reloads)."""
    METRICS.pop(key, None)


for _metric in (
    MetricDef("dice", "Dice", "max", {"*": "%"}, scale=100.0, high=1.0),
    MetricDef("jaccard", "Jaccard", "max", {"*": "%"}, scale=100.0, high=1.0, optional=True),
    MetricDef("hd95", "HD95", "min", _DISTANCE_UNITS, hides_miss=("paper",)),
    MetricDef("asd", "ASD", "min", _DISTANCE_UNITS, optional=True, hides_miss=("paper",)),
):
    register_metric(_metric)


def required_metrics() -> list[MetricDef]:
    return [m for m in METRICS.values() if not m.optional]


def table_metrics(keys_present, wanted: list[str] | None = None) -> list[MetricDef]:
    """The metrics a table shows, in the order of ``wanted`` (``report.metrics``; None: every
    defined one): each required one, and each optional one in ``keys_present``."""
    from advmim.errors import ConfigError

    present = set(keys_present)
    wanted = list(METRICS) if wanted is None else wanted
    unknown = [k for k in wanted if k not in METRICS]
    if unknown:
        raise ConfigError(f"report/metrics: unknown metric {', '.join(map(repr, unknown))}; "
                          f"defined: {', '.join(METRICS)}")
    return [METRICS[k] for k in wanted if not METRICS[k].optional or k in present]


def primary() -> MetricDef:
    """The metric the significance tests and the figures use (the first defined: Dice)."""
    return next(iter(METRICS.values()))
