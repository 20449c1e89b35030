# Helpers shared by all rules (config validation, paths, run settings); no rules here.
import json
import os
import shlex
import sys
from types import SimpleNamespace

from advmim import runs
from advmim.config import check_data_source, mim_pretrainings, type_overrides, validate_config
from advmim.data.registry import get_dataset
from advmim.jobs import run_identity, train_jobs, training_uses_gpu

type_overrides(config, workflow.config_settings.config)  # --config values: strings -> YAML
validate_config(config, source="workflow config")
check_data_source(config)

R = config["results_dir"]
DATASET = config["dataset"]["name"]
# Jobs call the `advmim` console script of the interpreter running Snakemake (its venv),
# also when that venv is not activated; SLURM jobs inherit this PATH.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
# Software environment of every rule for `--use-conda` (pyproject.toml's dependencies); its
# post-deploy script installs this repository's package into it from ADVMIM_ROOT (Snakemake
# copies the env file under .snakemake/conda/, so no path in the file could point here).
CONDA_ENV = os.path.join(REPO, "workflow", "envs", "advmim.yaml")
os.environ["ADVMIM_ROOT"] = REPO

# 1 when training jobs will run on a GPU (declared as resources: gpu=1), else 0
TRAIN_GPU = int(training_uses_gpu(config["training"]["device"]))
SWIN_WEIGHTS = runs.swin_weights_file(config)  # pretrained: imagenet, downloaded once


def run_config(wildcards):
    """Settings of one run (advmim.runs.job_settings: what `advmim train --configfile` builds)."""
    return runs.job_settings(config, wildcards.run, int(wildcards.labeled), int(wildcards.seed))


MIM_PRETRAININGS = mim_pretrainings(config)  # key -> settings of rule pretrain_mim


def settings_json(wildcards):
    return json.dumps(run_config(wildcards), sort_keys=True)


def pretrained_input(wildcards):
    """The Swin-T weights file a run's Swin-UNet starts from; none when the method has no
    Swin-UNet (its card's architectures) or pretrained is null."""
    from advmim.methods import method_card

    path = run_config(wildcards).get("models", {}).get("swin_unet", {}).get("pretrained")
    if not path or "swin_unet" not in method_card(run_identity(config, wildcards.run)[0]).architectures:
        return []
    return path


def weights_options():
    """`advmim download-weights` options from models.swin_unet.pretrained_sha256 and
    pretrained_url (a mirror; default: the official release asset)."""
    swin = config.get("models", {}).get("swin_unet", {})
    options = ["--sha256", swin["pretrained_sha256"]] if swin.get("pretrained_sha256") else []
    options += ["--url", swin["pretrained_url"]] if swin.get("pretrained_url") else []
    return shlex.join(options)


def run_files(pattern, target):
    """``pattern`` for every training job of ``target`` (advmim.jobs: the list `advmim plan`
    counts too; an upper bound trained on all labels runs once, at the smallest subset)."""
    return [pattern.format(run=j.run, labeled=j.labeled, seed=j.seed) for j in train_jobs(config, [target])]


def metrics_files(target):
    return run_files(f"{R}/metrics/{DATASET}/{{run}}/L{{labeled}}/seed{{seed}}.json", target)


def main_metrics():
    return metrics_files("main")


def ablation_metrics():
    return metrics_files("ablations")


def main_table_outputs():
    return [
        f"{R}/tables/{DATASET}.md",
        f"{R}/tables/{DATASET}.csv",
        f"{R}/metrics/{DATASET}_summary.json",  # DVC metrics (docs/dvc.md)
    ]


REFERENCES = os.path.join(REPO, "config", "reference_results.csv")
FIGURE_FORMATS = ["png", "pdf"]


def main_models():
    """model.pt of every main-table run (their folders also hold train_log.csv, config.json)."""
    return run_files(f"{R}/runs/{DATASET}/{{run}}/L{{labeled}}/seed{{seed}}/model.pt", "main")


def main_data():
    return data_input(SimpleNamespace(dataset=DATASET))


def figure_paths(kind):
    """Files written by `advmim figures` for one kind: curves (one per method), dice, qualitative."""
    stems = {
        "curves": [f"curves_{m}" for m in config["methods"]],
        "dice": ["dice_vs_labeled"],
        "qualitative": ["qualitative"],
    }[kind]
    return [f"{R}/figures/{DATASET}/{s}.{fmt}" for s in stems for fmt in FIGURE_FORMATS]


def main_figure_outputs():
    return [p for kind in ("curves", "dice", "qualitative") for p in figure_paths(kind)]


def data_input(wildcards):
    """The preprocessed data folder: converted from raw data, or prepared (validated, labeled
    lists added, data/ linked) from the user's SSL4MIS folder dataset.preprocessed_dir."""
    return f"{R}/data/{wildcards.dataset}"


PREPROCESSED_DIR = config["dataset"].get("preprocessed_dir")


def raw_input(wildcards):
    """The raw folder convert reads: dataset.raw_dir, else rule raw_data's output."""
    return config["dataset"].get("raw_dir") or f"{R}/raw/{wildcards.dataset}/database"


def convert_options(wildcards):
    """`advmim convert` options of the dataset plug-in (split sizes/seed, labeled sizes)."""
    return shlex.join(get_dataset(wildcards.dataset).convert_arguments(config["dataset"], config["labeled"]))


def raw_command(wildcards):
    """The `advmim` arguments that write the dataset's raw data (its plug-in's download or
    generator); the workflow stops before any job for data the user must bring."""
    return shlex.join(get_dataset(wildcards.dataset).raw_command(config["dataset"]))
