"""Dry runs of the real-dataset configs: the planned jobs of the paper-protocol DAGs.

Each test runs ``snakemake -n -p`` (plans every job, runs nothing) in a copy of the workflow, so
nothing is written into the repository. Every run imports torch (~6 s CPU): keep them few.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from advmim.methods import get_method
from tests.workflow_utils import shipped_config

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wf")
    shutil.copy(ROOT / "Snakefile", work)
    for folder in ("workflow", "config"):
        shutil.copytree(ROOT / folder, work / folder, symlinks=False)
    return work


def plan(workdir: Path, configfile: str, *targets: str, **dataset) -> tuple[int, dict[str, list[dict]], str]:
    """(returncode, {rule: [{"output", "shell"}, ...]}, log) of ``snakemake -n -p [targets]``."""
    extra = workdir / "extra.yaml"
    extra.write_text(yaml.safe_dump({"results_dir": str(workdir / "res"), "dataset": dataset}))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-p", "--cores", "1", *targets,
         "--configfile", configfile, str(extra)],  # fmt: skip
        cwd=workdir, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    jobs: dict[str, list[dict]] = {}
    job: dict = {}
    for line in proc.stdout.splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):$", line):
            job = {}
            jobs.setdefault(m.group(1), []).append(job)
        elif line.startswith("    output: "):
            job["output"] = line.removeprefix("    output: ")
        elif line.startswith("    input: "):
            job["input"] = line.removeprefix("    input: ").split(", ")
        elif line.startswith("Shell command: "):
            job["shell"] = line.removeprefix("Shell command: ")
    return proc.returncode, jobs, proc.stdout + proc.stderr


def settings_of(workdir: Path, configfile: str, train_job: dict) -> str:
    """The settings (JSON text) rule run_settings renders for one planned train job: the file it
    reads, built by the function the rule calls (advmim.runs.job_settings)."""
    from advmim import runs

    (path,) = [p for p in train_job["input"] if p.endswith("/settings.json")]
    run, labeled, seed = re.fullmatch(r".*/runs/[^/]+/(.+)/L(\d+)/seed(\d+)/settings\.json", path).groups()
    config = runs.load_configs([workdir / configfile, workdir / "extra.yaml"], base=workdir / "config" / "config.yaml")
    return json.dumps(runs.job_settings(config, run, int(labeled), int(seed)), sort_keys=True)


def test_acdc_paper_protocol_dag(workdir):
    config = shipped_config("acdc.yaml")
    rc, jobs, log = plan(workdir, "config/acdc.yaml")
    assert rc == 0, log
    assert {"raw_data", "convert", "train", "evaluate", "table"} <= set(jobs)
    res = workdir / "res"
    # upper bounds (all labels) do not depend on the labeled subset: trained once, at L3
    expected = {
        f"{res}/runs/acdc/{m}/L{n}/seed1337/model.pt"
        for m in config["methods"]
        for n in ((3,) if get_method(m).all_labels else (3, 7))
    }
    assert {r["output"] for r in jobs["train"]} == expected
    assert len(jobs["evaluate"]) == len(expected)
    assert "advmim download acdc --url https://humanheart-project" in jobs["raw_data"][0]["shell"]
    assert f"--raw {res}/raw/acdc/database --out" in jobs["convert"][0]["shell"]
    settings = settings_of(workdir, "config/acdc.yaml", next(r for r in jobs["train"] if "/advmim/L3/" in r["output"]))
    for fragment in ('"img_size": 224', '"iterations": 30000', '"embed_dim": 96', '"mask_block": 32',
                     '"lr": 0.05', '"grad_clip": 5.0', '"batch_labeled": 8'):
        assert fragment in settings
    # pretrained: imagenet -> the Swin-T is downloaded once, before the Swin-UNet trainings
    weights = f"{res}/pretrained/swin_tiny_patch4_window7_224.pth"
    (fetch,) = jobs["download_weights"]
    assert fetch["output"] == weights and "advmim download-weights swin-t --out" in fetch["shell"]
    assert f'"pretrained": "{weights}"' in settings
    waits = {r["output"].split("/")[-4] for r in jobs["train"] if weights in r.get("input", [])}
    assert waits == {m for m in config["methods"] if "swin_unet" in get_method(m).networks.values()}
    assert {"ctct", "advmim"} <= waits and "supervised_unet" not in waits
    # the published settings per method (config/acdc.yaml method_training)
    settings = settings_of(workdir, "config/acdc.yaml", next(r for r in jobs["train"] if "/uamt/L3/" in r["output"]))
    for fragment in ('"img_size": 256', '"lr": 0.01', '"grad_clip": null', '"batch_labeled": 12'):
        assert fragment in settings
    settings = settings_of(workdir, "config/acdc.yaml", next(r for r in jobs["train"] if "/ctct/L3/" in r["output"]))
    for fragment in ('"img_size": 224', '"lr": 0.01', '"batch_unlabeled": 8'):
        assert fragment in settings
    settings = settings_of(workdir, "config/acdc.yaml", next(r for r in jobs["train"] if "/supervised_unet/L3/" in r["output"]))
    assert '"batch_labeled": 24' in settings and '"img_size": 256' in settings


def test_acdc_ablations_at_the_paper_scale(workdir):
    """The ablation definitions of config/config.yaml, merged under config/acdc.yaml, plan the
    paper's rows at 224 px: mask blocks 16 / 32 / 64 px with AdvMIM's published settings."""
    from advmim.models.masking import scaled_block

    rc, jobs, log = plan(workdir, "config/acdc.yaml", "ablations")
    assert rc == 0, log
    default = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert len(jobs["train"]) == 2 * len(default["ablations"])
    blocks = {}
    for job in jobs["train"]:
        settings = json.loads(settings_of(workdir, "config/acdc.yaml", job))
        assert settings["img_size"] == 224 and settings["iterations"] == 30000
        blocks[settings["variant"]] = scaled_block(settings["method_params"]["mask_block"], 224, 4)
    assert blocks["block_16"] == 16 and blocks["full"] == 32 and blocks["block_64"] == 64


def test_acdc_from_an_ssl4mis_folder_prepares_instead_of_converting(workdir, tmp_path):
    (tmp_path / "ACDC" / "data").mkdir(parents=True)
    rc, jobs, log = plan(workdir, "config/acdc.yaml", preprocessed_dir=str(tmp_path / "ACDC"))
    assert rc == 0, log
    assert "raw_data" not in jobs and "convert" not in jobs and len(jobs["train"]) == 23
    (prepare,) = jobs["prepare_ssl4mis"]
    assert f"prepare-ssl4mis {tmp_path / 'ACDC'} --out" in prepare["shell"]
    assert "--labeled 3 7" in prepare["shell"]


def test_a_newer_read_only_copy_does_not_retrain_finished_runs(workdir, tmp_path):
    """The shared ACDC copy gets a new mtime when it is unpacked or mounted again (same files):
    the prepared folder (and so every run trained on it) stays up to date."""
    src = tmp_path / "ACDC"
    (src / "data").mkdir(parents=True)
    prepared = workdir / "res" / "data" / "acdc"
    prepared.mkdir(parents=True, exist_ok=True)
    os.utime(prepared, (1_000_000_000, 1_000_000_000))  # 2001: older than the copy
    try:
        rc, jobs, log = plan(workdir, "config/acdc_cpu.yaml", str(prepared), preprocessed_dir=str(src))
    finally:
        shutil.rmtree(prepared)
    assert rc == 0, log
    assert "prepare_ssl4mis" not in jobs, log


def test_acdc_cpu_config_is_complete_and_plans_the_table_from_the_public_copy(workdir, tmp_path):
    config = shipped_config("acdc_cpu.yaml")  # merged over config/config.yaml, valid
    (tmp_path / "ACDC" / "data").mkdir(parents=True)
    rc, jobs, log = plan(workdir, "config/acdc_cpu.yaml", preprocessed_dir=str(tmp_path / "ACDC"))
    assert rc == 0, log
    assert "raw_data" not in jobs and "convert" not in jobs and "download_weights" not in jobs
    assert len(jobs["prepare_ssl4mis"]) == 1 and len(jobs["train"]) == len(config["seeds"]) * (2 * len(config["methods"]) - 1)
    settings = settings_of(workdir, "config/acdc_cpu.yaml", next(r for r in jobs["train"] if "/advmim/L7/" in r["output"]))
    assert '"img_size": 64' in settings and '"pretrained": "' not in settings  # from scratch
    assert all("--split test" in r["shell"] for r in jobs["evaluate"])


def test_synapse_reads_raw_dir_with_fixed_test_cases(workdir, tmp_path):
    rc, jobs, log = plan(workdir, "config/synapse.yaml", raw_dir=str(tmp_path))
    assert rc == 0, log
    assert "raw_data" not in jobs and len(jobs["train"]) == 23
    (convert,) = jobs["convert"]
    assert f"advmim convert synapse --raw {tmp_path} --out" in convert["shell"]
    # config/config.yaml's split.test is merged in but must not reach synapse (fixed test cases)
    assert "--val 0 --seed 0 --labeled 2 4 >" in convert["shell"] and "--test" not in convert["shell"]


def test_missing_raw_dir_says_where_to_get_the_data(tmp_path):
    from advmim.config import check_data_source
    from advmim.errors import ConfigError
    from tests.workflow_utils import shipped_config

    config = shipped_config("synapse.yaml")
    config["dataset"]["raw_dir"] = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=r"nowhere.*https://www\.synapse\.org/#!Synapse:syn3193805"):
        check_data_source(config)
    config = shipped_config("promise12.yaml")
    del config["dataset"]["raw_dir"]
    with pytest.raises(ConfigError, match="promise12 cannot be downloaded.*promise12.grand-challenge"):
        check_data_source(config)
    config["dataset"]["raw_dir"] = str(tmp_path)
    check_data_source(config)


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/acdc.yaml", ".test/config/config.yaml"])
def test_plan_counts_exactly_the_dags_training_jobs(workdir, configfile):
    """`advmim plan` and the DAG read one job list (advmim.jobs): same runs, per target."""
    from advmim.config import read_yaml, validate_config
    from advmim.plan import make_plan, merge_configs

    if configfile.startswith(".test/"):
        (workdir / configfile).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / configfile, workdir / configfile)
    base = read_yaml(ROOT / "config" / "config.yaml")
    config = validate_config(merge_configs(base, read_yaml(ROOT / configfile)))
    steps = {"entries": [{"method": "advmim", "device": "cpu", "ms_per_iter": 1.0}]}
    for targets in (["all"], ["ablations"], ["all", "ablations"]):
        rc, jobs, log = plan(workdir, configfile, *targets)
        assert rc == 0, log
        wanted = [{"all": "main"}.get(t, t) for t in targets]
        rows = make_plan([config], steps, "cpu", wanted).rows
        assert sum(r.runs for r in rows) == len(jobs.get("train", [])), (configfile, targets)
        planned = {j["output"].split("/runs/")[1].split("/")[1] for j in jobs.get("train", [])}
        assert {r.run for r in rows} == planned


def test_mim_pretraining_runs_once_before_every_swin_unet_run(workdir):
    """pretrained: mim plans one pretrain_mim job per dataset and settings: every Swin-UNet run
    (CTCT, AdvMIM, all seeds and labeled subsets) waits for the same encoder file; U-Net-only
    runs do not; a changed input size is another pretraining."""
    overlay = workdir / "mim.yaml"
    overlay.write_text(yaml.safe_dump({
        "seeds": [1, 2], "labeled": [1, 2], "methods": ["supervised_unet", "ctct", "advmim"],
        "models": {"swin_unet": {"pretrained": "mim"}},
    }))
    rc, jobs, log = plan(workdir, str(overlay))
    assert rc == 0, log
    (pretrain,) = jobs["pretrain_mim"]
    weights = pretrain["output"].split(", ")[0]
    assert re.fullmatch(rf"{workdir}/res/pretrained/phantom/mim_[0-9a-f]{{12}}\.pt", weights)
    assert "advmim pretrain-mim --data" in pretrain["shell"] and '"mask_ratio": 0.6' in pretrain["shell"]
    waits = [r for r in jobs["train"] if weights in r.get("input", [])]
    assert {r["output"].split("/")[-4] for r in waits} == {"ctct", "advmim"} and len(waits) == 8
    assert all(f'"pretrained": "{weights}"' in settings_of(workdir, str(overlay), r) for r in waits)
    overlay.write_text(yaml.safe_dump({
        "methods": ["ctct", "advmim"], "models": {"swin_unet": {"pretrained": "mim"}},
        "method_training": {"ctct": {"img_size": 64}},
    }))
    rc, jobs, log = plan(workdir, str(overlay))
    assert rc == 0, log
    assert len(jobs["pretrain_mim"]) == 2
