"""Trust boundaries (issue 22): no code from a checkpoint, one validator of run settings, run
folders locked, predict outputs never overwritten silently, data identity on resume, and
bad training/evaluation data refused with one line naming the file. docs/bad_inputs.md lists
every case; docs/security.md states the trust model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from advmim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def fails(capsys, argv: list, *fragments: str) -> str:
    """Run the CLI, expect exit status 2, one error line, and every fragment in stderr."""
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


# ---------------------------------------------------------------- no code from a checkpoint


class Payload:
    """Unpickled by a loader that allows arbitrary objects, it creates ``marker``."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def hostile_checkpoint(path: Path, marker: Path, settings: dict | None = None) -> Path:
    """A torch file shaped like an advmim checkpoint whose pickle would create ``marker``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"settings": settings or {}, "nets": {"C": Payload(marker)}, "iteration": 1,
                "method": Payload(marker), "log": []}, path)
    return path


def _write_settings(tmp_path: Path, settings: dict) -> Path:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    return path


@pytest.mark.parametrize("where", ["predict", "evaluate", "resume", "final", "pretrained"])
def test_hostile_checkpoint_runs_nothing(where, phantom_data, tiny_settings, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    settings = tiny_settings("supervised_unet")
    run = tmp_path / "run"
    if where == "predict":
        model = hostile_checkpoint(run / "model.pt", marker)
        image = tmp_path / "in.nii.gz"
        import nibabel as nib
        import numpy as np

        nib.save(nib.Nifti1Image(np.random.default_rng(0).random((8, 8, 2)).astype("float32"),
                                 np.eye(4)), image)
        argv = ["predict", "--model", model, image, tmp_path / "out.nii.gz"]
        bad = model
    elif where == "evaluate":
        bad = hostile_checkpoint(run / "model.pt", marker)
        argv = ["evaluate", "--model", bad, "--data", phantom_data, "--out", tmp_path / "m.json"]
    else:
        if where == "pretrained":
            settings = tiny_settings("advmim")
            bad = hostile_checkpoint(tmp_path / "weights.pth", marker)
            settings["models"]["swin_unet"]["pretrained"] = str(bad)
        else:
            name = "last.pt" if where == "resume" else "final.pt"
            bad = hostile_checkpoint(run / "ckpt" / name, marker, settings)
            (run / "config.json").write_text(json.dumps(settings))
        argv = ["train", "--data", phantom_data, "--settings-file", _write_settings(tmp_path, settings),
                "--out", run, "--no-progress"]
    fails(capsys, argv, str(bad), "refusing to load it")
    assert not marker.exists()


def test_checkpoint_of_plain_data_still_loads(tmp_path):
    from advmim.train.checkpoint import load_checkpoint, save_checkpoint

    state = {"settings": {"a": [1, 2.5, None, "x"]}, "nets": {"C": {"w": torch.ones(2)}},
             "optimizers": {"C": torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1,
                                                 momentum=0.9).state_dict()}}
    save_checkpoint(tmp_path / "ok.pt", state)
    back = load_checkpoint(tmp_path / "ok.pt")
    assert back["settings"] == state["settings"] and torch.equal(back["nets"]["C"]["w"], torch.ones(2))


# ---------------------------------------------------------------- one validator of run settings

BAD_SETTINGS = [
    ("amp", "fp8", "amp"), ("momentun", 0.9, "momentun"), ("checkpoint_every", 0, "checkpoint_every"),
    ("threads", 0, "threads"), ("momentum", -1, "momentum"), ("weight_decay", -1, "weight_decay"),
    ("grad_clip", "x", "grad_clip"), ("augmentation", "none", "augmentation"),
    ("seed", 2**70, "seed"), ("class_names", ["RV", "Myo", "LV", "extra"], "class_names"),
    ("lr", "0.01", "lr"), ("channels_last", "yes", "channels_last"),
]


@pytest.mark.parametrize(("key", "value", "named"), BAD_SETTINGS, ids=[c[0] for c in BAD_SETTINGS])
def test_bad_run_setting_refused_before_any_work(key, value, named, phantom_data, tiny_settings,
                                                 tmp_path, capsys):
    settings = tiny_settings("supervised_unet") | {key: value}
    path = _write_settings(tmp_path, settings)
    out = tmp_path / "run"
    fails(capsys, ["train", "--data", phantom_data, "--settings-file", path, "--out", out],
          str(path), named, "invalid run settings")
    assert not out.exists()


def test_settings_file_that_is_a_list(phantom_data, tmp_path, capsys):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    fails(capsys, ["train", "--data", phantom_data, "--settings-file", path, "--out", tmp_path / "r"],
          str(path), "expected a JSON object")


def test_threads_zero_on_the_command_line(phantom_data, tiny_settings, tmp_path, capsys):
    path = _write_settings(tmp_path, tiny_settings("supervised_unet"))
    for argv in (["train", "--data", phantom_data, "--settings-file", path, "--out", tmp_path / "r"],
                 ["evaluate", "--model", tmp_path / "m.pt", "--data", phantom_data, "--out",
                  tmp_path / "m.json"]):
        with pytest.raises(SystemExit) as exit_:
            main([str(a) for a in argv] + ["--threads", "0"])
        assert exit_.value.code == 2
        assert "--threads: expected an integer >= 1, got '0'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_missing_setting_takes_the_schema_default(tiny_settings):
    from advmim.schema import check_run_settings, schema_default

    settings = {k: v for k, v in tiny_settings("supervised_unet").items() if k != "checkpoint_every"}
    assert check_run_settings(settings)["checkpoint_every"] == schema_default("training", "checkpoint_every")


# ---------------------------------------------------------------- config values never reach a shell


@pytest.mark.slow
def test_results_folder_with_spaces_quotes_and_shell_syntax(tmp_path):
    """tests/configs/tiny.yaml to its default target in a results folder whose name has spaces,
    non-ASCII letters, a quote and ``$(touch ...)``: every job runs, no command is injected."""
    import yaml

    from tests.workflow_utils import snakemake, write_config

    config = yaml.safe_load((ROOT / "tests" / "configs" / "tiny.yaml").read_text())
    config["results_dir"] = "résultats d'essai/r$(touch PWNED)"
    done = snakemake(tmp_path, write_config(tmp_path / "c.yaml", config), "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    results = tmp_path / "résultats d'essai" / "r$(touch PWNED)"
    assert (results / "tables" / "phantom.md").is_file()
    assert (results / "figures" / "phantom" / "dice_vs_labeled.png").is_file()
    assert not list(tmp_path.rglob("PWNED")) and not (ROOT / "PWNED").exists()
