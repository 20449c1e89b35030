"""One training run as the workflow resolves it, shared by the workflow (``workflow/rules``) and
``advmim train --configfile``: the merged configuration, the run's settings (pretrained weights
resolved to files under ``results_dir``) and its folders. Both paths call these functions, so a
run trained by hand gets the settings the workflow would give it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from advmim.errors import ConfigError

DEFAULT_CONFIG = Path("config") / "config.yaml"


def embedded_default() -> Path:
    """The embedded default ``config/config.yaml`` of the checkout the package lives in, else
    ``config/config.yaml`` of the working folder."""
    beside = Path(__file__).resolve().parents[1] / DEFAULT_CONFIG
    return beside if beside.is_file() else DEFAULT_CONFIG


def load_configs(paths: Sequence[str | Path], base: str | Path | None = None) -> dict:
    """The validated configuration of ``base`` (default :func:`embedded_default`) with every file
    of ``paths`` merged over it in order, as Snakemake merges ``--configfile`` files over the
    Snakefile's ``configfile:`` (nested mappings merged, other values replaced)."""
    from advmim.config import read_yaml, validate_config
    from advmim.plan import merge_configs

    base = Path(base) if base is not None else embedded_default()
    merged = read_yaml(base) or {}
    for path in paths:
        override = read_yaml(path)
        if override is None:
            continue
        if not isinstance(override, dict):
            raise ConfigError(f"{path}: the configuration must be a mapping, got {type(override).__name__}")
        merged = merge_configs(merged, override)
    return validate_config(merged, source=" + ".join(str(p) for p in [base, *paths]))


def mim_file(config: dict, pretraining: dict) -> str:
    """The encoder file rule pretrain_mim writes for one pretraining's settings."""
    from advmim.config import pretrain_key

    return f"{config['results_dir']}/pretrained/{pretraining['dataset']}/mim_{pretrain_key(pretraining)}.pt"


def swin_weights_file(config: dict) -> str:
    """The ImageNet Swin-T weights (``pretrained: imagenet``), downloaded once per results folder."""
    from advmim.models.settings import SWIN_T_FILE

    return f"{config['results_dir']}/pretrained/{SWIN_T_FILE}"


def job_settings(config: dict, run: str, labeled: int, seed: int) -> dict:
    """Settings of run ``run`` (a method, or ``abl-<variant>``): :func:`advmim.config.run_settings`
    with ``pretrained: imagenet`` resolved to the downloaded file and ``pretrained: mim`` to the
    masked-image-modelling encoder of its settings."""
    from advmim.config import MIM, pretrain_settings, run_settings
    from advmim.jobs import ABLATION_PREFIX, run_identity
    from advmim.models.settings import IMAGENET
    from advmim.schema import check_run_settings

    if run.startswith(ABLATION_PREFIX) and run[len(ABLATION_PREFIX):] not in config.get("ablations", {}):
        valid = ", ".join(ABLATION_PREFIX + v for v in config.get("ablations", {})) or "none"
        raise ConfigError(f"run {run!r}: no such ablation variant in the configuration; valid: {valid}")
    method, variant = run_identity(config, run)
    settings = run_settings(config, method, int(labeled), int(seed), variant)
    swin = settings.get("models", {}).get("swin_unet", {})
    if swin.get("pretrained") == IMAGENET:
        swin["pretrained"] = swin_weights_file(config)
    elif swin.get("pretrained") == MIM:
        swin["pretrained"] = mim_file(config, pretrain_settings(config, settings))
    return check_run_settings(settings, f"run {run} L{labeled} seed{seed}")  # as `advmim train` checks it


def run_folder(config: dict, run: str, labeled: int, seed: int) -> Path:
    """The folder the workflow trains run ``run`` in (model.pt, train_log.csv, config.json)."""
    return Path(config["results_dir"]) / "runs" / config["dataset"]["name"] / run / f"L{labeled}" / f"seed{seed}"


def data_folder(config: dict) -> Path:
    """The preprocessed data folder the workflow trains from."""
    return Path(config["results_dir"]) / "data" / config["dataset"]["name"]
