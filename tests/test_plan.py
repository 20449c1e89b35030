"""advmim plan: run counting, step-time choice per device, rendering and the CLI."""

import json

import pytest
import yaml

from advmim.cli import main
from advmim.errors import ConfigError
from advmim.plan import load_step_times, make_plan, merge_configs, save_step_times

CONFIG = {
    "results_dir": "results",
    "dataset": {"name": "acdc", "num_classes": 4, "class_names": ["RV", "Myo", "LV"]},
    "labeled": [3, 7],
    "seeds": [1, 2, 3],
    "methods": ["supervised_unet", "ctct", "advmim"],
    "ablations": {
        "no_adv": {"method": "advmim", "params": {"adversarial": False}},
        "short": {"method": "advmim", "training": {"iterations": 1000}},
    },
    "training": {"img_size": 224, "iterations": 30000, "batch_labeled": 8,
                 "batch_unlabeled": 8, "lr": 0.05},
    "models": {},
    "evaluation": {"mode": "paper"},
}


def _entry(method, device, ms, size=224, batch=8):
    return {"method": method, "device": device, "device_name": f"{device} box",
            "ms_per_iter": ms, "img_size": size, "batch_labeled": batch}


STEPS = {"entries": [
    _entry("advmim", "cpu", 10000.0), _entry("ctct", "cpu", 4000.0),
    _entry("supervised_unet", "cpu", 500.0, size=64, batch=4),
    _entry("advmim", "cuda", 360.0),
]}


def test_rows_count_every_training_run():
    plan = make_plan([CONFIG], STEPS, device="cpu")
    assert plan.device == "cpu" and plan.device_name == "cpu box"
    rows = {r.run: r for r in plan.rows}
    assert list(rows) == ["supervised_unet", "ctct", "advmim", "abl-no_adv", "abl-short"]
    assert all(r.runs == 6 for r in plan.rows)  # 2 labeled ratios x 3 seeds
    assert rows["advmim"].hours == pytest.approx(6 * 30000 * 10.0 / 3600)
    assert rows["abl-short"].iterations == 1000
    assert rows["abl-short"].hours == pytest.approx(6 * 1000 * 10.0 / 3600)
    # a step time at other sizes (64 px, batch 4) does not stand for a 224 px run
    assert rows["supervised_unet"].ms_per_iter is None and rows["supervised_unet"].hours is None
    assert plan.total_hours == pytest.approx(sum(r.hours for r in plan.rows if r.hours))
    assert plan.missing == ["supervised_unet"]


def test_device_choice_and_missing_methods():
    plan = make_plan([CONFIG], STEPS)  # cpu covers more methods than cuda
    assert plan.device == "cpu"
    gpu = make_plan([CONFIG], STEPS, device="cuda")
    assert gpu.missing == ["ctct", "supervised_unet"]
    assert gpu.total_hours == pytest.approx(18 * 30000 * 0.36 / 3600 - 6 * 29000 * 0.36 / 3600)
    with pytest.raises(ConfigError, match="no step times measured on 'tpu'"):
        make_plan([CONFIG], STEPS, device="tpu")


def test_several_datasets_add_up():
    other = {**CONFIG, "dataset": {**CONFIG["dataset"], "name": "phantom"}, "ablations": {}}
    plan = make_plan([CONFIG, other], STEPS, device="cpu")
    assert {r.dataset for r in plan.rows} == {"acdc", "phantom"}
    assert len(plan.rows) == 5 + 3


def test_step_times_file_roundtrip_and_errors(tmp_path):
    path = tmp_path / "steps.json"
    save_step_times(path, STEPS)
    data = load_step_times(path)
    assert "device" in data["note"] and len(data["entries"]) == 4
    with pytest.raises(ConfigError, match="no step-times file"):
        load_step_times(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text(json.dumps({"entries": [{"method": "x"}]}))
    with pytest.raises(ConfigError, match="lacks device, ms_per_iter"):
        load_step_times(tmp_path / "bad.json")


def test_cli_prints_table_device_and_total(tmp_path, capsys):
    cfg = tmp_path / "acdc.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    steps = tmp_path / "steps.json"
    save_step_times(steps, STEPS)
    no_base = ["--base", str(tmp_path / "none.yaml")]
    assert main(["plan", "--configfile", str(cfg), "--step-ms-file", str(steps), *no_base]) == 0
    out = capsys.readouterr().out
    assert "measured on cpu" in out and "CPU hours" in out and "supervised_unet" in out
    total = make_plan([CONFIG], STEPS, device="cpu").total_hours
    assert f"total: {total:,.1f} cpu-h" in out
    assert main(["plan", "--configfile", str(cfg), "--step-ms-file", str(tmp_path / "x")]) == 2


def test_configfile_is_merged_over_the_base_like_snakemake(tmp_path, capsys):
    assert merge_configs({"a": {"x": 1, "y": 2}, "b": [1]}, {"a": {"y": 3}, "b": [2]}) == {
        "a": {"x": 1, "y": 3}, "b": [2]}
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(CONFIG))
    over = tmp_path / "over.yaml"
    over.write_text(yaml.safe_dump({"methods": ["advmim"], "training": {"iterations": 100}}))
    steps = tmp_path / "steps.json"
    save_step_times(steps, STEPS)
    args = ["plan", "--configfile", str(over), "--step-ms-file", str(steps), "--device", "cuda"]
    assert main([*args, "--base", str(base)]) == 0
    out = capsys.readouterr().out
    # advmim and abl-no_adv: 6 runs x 100 iterations; abl-short keeps its 1000; 360 ms each
    assert "abl-no_adv" in out and f"total: {(1200 + 6000) * 0.36 / 3600:,.1f} GPU-h" in out


def test_cli_prints_gpu_hours_beside_the_cpu_plan_when_gpu_step_times_exist(tmp_path, capsys):
    cfg = tmp_path / "acdc.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    steps = tmp_path / "steps.json"
    no_base = ["--base", str(tmp_path / "none.yaml")]
    cpu_only = {"entries": [e for e in STEPS["entries"] if e["device"] == "cpu"]}
    save_step_times(steps, cpu_only)
    assert main(["plan", "--configfile", str(cfg), "--step-ms-file", str(steps), *no_base]) == 0
    out = capsys.readouterr().out
    assert out.count("total: ") == 1 and "measured on cuda" not in out  # no GPU plan
    save_step_times(steps, STEPS)
    assert main(["plan", "--configfile", str(cfg), "--step-ms-file", str(steps), *no_base]) == 0
    out = capsys.readouterr().out
    gpu = make_plan([CONFIG], STEPS, device="cuda").total_hours
    cpu = make_plan([CONFIG], STEPS, device="cpu").total_hours
    assert f"total: {cpu:,.1f} cpu-h" in out and f"total: {gpu:,.1f} GPU-h" in out
    assert "measured on cuda: cuda box" in out


def test_compiled_or_bf16_step_times_stand_only_for_such_runs():
    steps = {"entries": [{**_entry("advmim", "cuda", 100.0), "compile": True},
                         {**_entry("ctct", "cuda", 50.0), "amp": "bf16"}]}
    plan = make_plan([CONFIG], steps, device="cuda")
    assert plan.missing == ["advmim", "ctct", "supervised_unet"]
    compiled = {**CONFIG, "training": {**CONFIG["training"], "compile": True}}
    assert make_plan([compiled], steps, device="cuda").missing == ["ctct", "supervised_unet"]
