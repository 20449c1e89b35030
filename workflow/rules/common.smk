# Helpers shared by the rule files: config validation, paths, run settings, wildcard constraints.
import json
import sys

from advmim.config import run_settings, validate_config

validate_config(config, source="workflow config")

R = config["results_dir"]
DATASET = config["dataset"]["name"]
ADVMIM = f"{sys.executable} -m advmim"
ABLATION_PREFIX = "abl-"


wildcard_constraints:
    dataset=r"[a-z0-9_]+",
    run=r"[A-Za-z0-9_.\-]+",
    labeled=r"\d+",
    seed=r"\d+",


def uses_gpu():
    """1 when training jobs will run on a GPU (declared as resources: gpu=1), else 0."""
    device = config["training"].get("device", "auto")
    if device == "cpu":
        return 0
    if device == "cuda":
        return 1
    import torch

    return int(torch.cuda.is_available())


TRAIN_GPU = uses_gpu()


def run_identity(run):
    """(method, variant) of a run name: a method, or 'abl-<variant>' for an ablation entry."""
    if run.startswith(ABLATION_PREFIX):
        variant = run[len(ABLATION_PREFIX):]
        return config["ablations"][variant]["method"], variant
    return run, None


def settings_json(wildcards):
    method, variant = run_identity(wildcards.run)
    settings = run_settings(config, method, int(wildcards.labeled), int(wildcards.seed), variant)
    return json.dumps(settings, sort_keys=True)


def metrics_files(runs):
    return expand(
        f"{R}/metrics/{DATASET}/{{run}}/L{{labeled}}/seed{{seed}}.json",
        run=runs,
        labeled=config["labeled"],
        seed=config["seeds"],
    )


def main_metrics():
    return metrics_files(config["methods"])


def ablation_metrics():
    return metrics_files([ABLATION_PREFIX + v for v in config.get("ablations", {})])


def main_table_outputs():
    return [f"{R}/tables/{DATASET}.md", f"{R}/tables/{DATASET}.csv"]


def data_input(wildcards):
    """The preprocessed data folder: converted here, or the user's existing SSL4MIS folder."""
    return config["dataset"].get("preprocessed_dir") or f"{R}/data/{wildcards.dataset}"
