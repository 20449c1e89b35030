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
    fails(capsys, argv, str(bad), "refusing to load this", "could run code")
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
    """.test/config/config.yaml to its default target in a results folder whose name has spaces,
    non-ASCII letters, a quote and ``$(touch ...)``: every job runs, no command is injected."""
    import yaml

    from tests.workflow_utils import snakemake, write_config

    config = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    config["results_dir"] = "résultats d'essai/r$(touch PWNED)"
    done = snakemake(tmp_path, write_config(tmp_path / "c.yaml", config), "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    results = tmp_path / "résultats d'essai" / "r$(touch PWNED)"
    assert (results / "tables" / "phantom.md").is_file()
    assert (results / "figures" / "phantom" / "dice_vs_labeled.png").is_file()
    assert not list(tmp_path.rglob("PWNED")) and not (ROOT / "PWNED").exists()


# ---------------------------------------------------------------- one writer per run folder


def test_second_writer_of_a_run_folder_is_refused(phantom_data, tiny_settings, tmp_path, capsys):
    from advmim.train.runlock import hold_run_folder

    path = _write_settings(tmp_path, tiny_settings("supervised_unet"))
    run = tmp_path / "run"
    with hold_run_folder(run):
        err = fails(capsys, ["train", "--data", phantom_data, "--settings-file", path, "--out", run],
                    str(run), "another `advmim train` is writing this run folder", "pid ")
    assert len(err.strip().splitlines()) == 1
    assert not (run / "config.json").exists()


def test_run_folder_lock_dies_with_its_holder(tmp_path):
    """flock: a holder killed with SIGKILL leaves nothing locked."""
    import subprocess
    import sys

    from advmim.train.runlock import hold_run_folder

    code = ("import sys, time; from advmim.train.runlock import hold_run_folder\n"
            f"with hold_run_folder({str(tmp_path / 'run')!r}):\n print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    assert holder.stdout.readline().strip() == "held"
    from advmim.errors import OutputError

    with pytest.raises(OutputError, match=f"pid {holder.pid}"), hold_run_folder(tmp_path / "run"):
        pass
    holder.kill()
    holder.wait()
    with hold_run_folder(tmp_path / "run"):
        pass


# ---------------------------------------------------------------- resume on the same data only


def test_resume_with_another_data_folder_is_refused(phantom_data, tiny_settings, tmp_path, capsys):
    import h5py

    from advmim.train.loop import LAST_CHECKPOINT, train

    settings = tiny_settings("supervised_unet")
    run = tmp_path / "run"
    train(dict(settings), phantom_data, run, progress=False, stop_after=2)
    other = Path(shutil.copytree(phantom_data, tmp_path / "other"))
    with h5py.File(_first_labeled_slice(other), "r+") as f:
        f["image"][...] = f["image"][...] * 0.5
    path = _write_settings(tmp_path, settings)
    fails(capsys, ["train", "--data", other, "--settings-file", path, "--out", run, "--no-progress"],
          str(run / LAST_CHECKPOINT), "trained on other data than")
    assert main(["train", "--data", str(phantom_data), "--settings-file", str(path), "--out", str(run),
                 "--no-progress"]) == 0


# ---------------------------------------------------------------- data checked when opened


def _copy_data(phantom_data, tmp_path) -> Path:
    return Path(shutil.copytree(phantom_data, tmp_path / "data"))


def _rewrite(path: Path, **arrays) -> None:
    import h5py

    with h5py.File(path, "r+") as f:
        for key, value in arrays.items():
            del f[key]
            f[key] = value


def _first_labeled_slice(data: Path) -> Path:
    name = (data / "labeled" / "1.list").read_text().split()[0]
    return data / "data" / "slices" / f"{name}.h5"


@pytest.mark.parametrize("case", ["label7", "three_channels", "num_classes2", "data_is_a_file"])
def test_bad_training_data_names_the_file(case, phantom_data, tiny_settings, tmp_path, capsys):
    import h5py
    import numpy as np

    data = _copy_data(phantom_data, tmp_path)
    settings = tiny_settings("supervised_unet")
    target = _first_labeled_slice(data)
    with h5py.File(target) as f:
        image, label = f["image"][...], f["label"][...]
    if case == "label7":
        label[0, 0] = 7
        _rewrite(target, label=label)
        expect = (str(target), "label values [7] outside 0..3")
    elif case == "three_channels":
        _rewrite(target, image=np.stack([image] * 3))
        expect = (str(target), "expected a 2D image")
    elif case == "num_classes2":
        settings |= {"num_classes": 2, "class_names": ["heart"]}
        expect = (str(data / "dataset.json"), "num_classes 4 but the run settings say 2")
    else:
        data = tmp_path / "file"
        data.write_text("not a folder")
        expect = (str(data), "not a folder")
    path = _write_settings(tmp_path, settings)
    fails(capsys, ["train", "--data", data, "--settings-file", path, "--out", tmp_path / "run"], *expect)
    assert not (tmp_path / "run" / "model.pt").exists()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """A 1-iteration supervised U-Net run on a small phantom (module-wide)."""
    import yaml

    from advmim.config import run_settings
    from advmim.data.phantom import write_phantom
    from advmim.data.registry import get_dataset
    from advmim.train.loop import train
    from tests.conftest import TINY_MODELS, TINY_PHANTOM, TINY_SPLIT

    root = tmp_path_factory.mktemp("trained")
    raw = write_phantom(root / "raw", **TINY_PHANTOM)
    data = get_dataset("phantom").convert(raw, root / "data", **TINY_SPLIT)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["training"].update(img_size=32, iterations=1, batch_labeled=2, batch_unlabeled=2,
                              threads=1, device="cpu")
    config["models"] = TINY_MODELS
    train(run_settings(config, "supervised_unet", 1, 0), data, root / "run", progress=False)
    return root


@pytest.mark.parametrize("case", ["label7", "inf", "constant"])
def test_evaluate_refuses_bad_test_volumes(case, trained_run, tmp_path, capsys):
    import h5py
    import numpy as np

    data = Path(shutil.copytree(trained_run / "data", tmp_path / "data"))
    case_name = (data / "test.list").read_text().split()[0]
    volume = data / "data" / f"{case_name}.h5"
    with h5py.File(volume) as f:
        image, label = f["image"][...], f["label"][...]
    if case == "label7":
        label[0, 0, 0] = 7
        _rewrite(volume, label=label)
        expect = "label values [7] outside 0..3"
    elif case == "inf":
        image[0, 0, 0] = np.inf
        _rewrite(volume, image=image)
        expect = "NaN or infinite"
    else:
        _rewrite(volume, image=np.full_like(image, 0.5))
        expect = "image is constant"
    out = tmp_path / "m.json"
    fails(capsys, ["evaluate", "--model", trained_run / "run" / "model.pt", "--data", data, "--out", out],
          str(volume), expect)
    assert not out.exists()


# ---------------------------------------------------------------- a model.pt that does not fit


@pytest.mark.parametrize("case", ["num_classes", "nets_list"])
def test_inconsistent_model_file(case, trained_run, tmp_path, capsys):
    from advmim.train.checkpoint import load_checkpoint, save_checkpoint

    state = load_checkpoint(trained_run / "run" / "model.pt")
    if case == "num_classes":
        state["settings"] |= {"num_classes": 3, "class_names": ["RV", "Myo"]}
        expect = "the weights do not fit a unet with num_classes 3"
    else:
        state["nets"] = list(state["nets"].values())
        expect = "'nets' must map network keys to state dicts, got list"
    model = tmp_path / "model.pt"
    save_checkpoint(model, state)
    fails(capsys, ["evaluate", "--model", model, "--data", trained_run / "data", "--out",
                   tmp_path / "m.json"], str(model), expect)


# ---------------------------------------------------------------- predict never overwrites silently


def test_predict_refuses_existing_outputs_unless_overwrite(trained_run, tmp_path, capsys):
    import nibabel as nib
    import numpy as np

    images, gts = tmp_path / "imgs", tmp_path / "gts"
    images.mkdir()
    gts.mkdir()
    volume = np.random.default_rng(0).random((20, 24, 3)).astype(np.float32)
    nib.save(nib.Nifti1Image(volume, np.eye(4)), images / "a.nii.gz")
    nib.save(nib.Nifti1Image(volume, np.eye(4)), images / "b.nii.gz")
    truth = gts / "b.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((20, 24, 3), np.uint8), np.eye(4)), truth)
    before = truth.read_bytes()
    model = trained_run / "run" / "model.pt"
    fails(capsys, ["predict", "--model", model, "--input-dir", images, "--output-dir", gts],
          str(truth), "refusing to overwrite it", "--overwrite")
    assert truth.read_bytes() == before and not (gts / "a.nii.gz").exists()
    fails(capsys, ["predict", "--model", model, images / "a.nii.gz", truth], str(truth), "--overwrite")
    assert main(["predict", "--model", str(model), "--input-dir", str(images), "--output-dir", str(gts),
                 "--overwrite"]) == 0
    assert truth.read_bytes() != before


# ---------------------------------------------------------------- sizes that cannot run


def test_img_size_too_large_for_memory_is_refused_before_set_up(phantom_data, tiny_settings, tmp_path, capsys):
    path = _write_settings(tmp_path, tiny_settings("supervised_unet", img_size=100000))
    fails(capsys, ["train", "--data", phantom_data, "--settings-file", path, "--out", tmp_path / "run"],
          "img_size: 100000 px needs at least", "GiB free")
    assert not (tmp_path / "run" / "config.json").exists()


def test_workflow_img_size_the_networks_cannot_take_fails_validation():
    import yaml

    from advmim.config import validate_config
    from advmim.errors import ConfigError

    config = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    config["training"]["img_size"] = 40
    config["methods"] = ["supervised_unet", "advmim"]
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert "training/img_size: img_size 40 must be divisible by 32 for swin_unet" in str(err.value)
    assert "img_size 40 must be divisible by 16 for unet" in str(err.value)


# ---------------------------------------------------------------- siblings of the cases above


@pytest.mark.parametrize(("change", "named"), [
    ({"pretrain": {"mask_ratio": 2}}, "pretrain/mask_ratio: 2 is greater than or equal to the maximum of 1"),
    ({"pretrian": {}}, "pretrian: unknown key"),
    ({"threads": 0}, "threads: 0 is less than the minimum of 1"),
])
def test_bad_pretraining_settings_refused_before_any_work(change, named, phantom_data, tmp_path, capsys):
    from advmim.config import fill_defaults

    settings = {"dataset": "phantom", "img_size": 32, "swin_unet": {}, "threads": 1, "device": "cpu",
                "pretrain": fill_defaults({})["pretrain"]} | change
    out = tmp_path / "mim.pt"
    fails(capsys, ["pretrain-mim", "--data", phantom_data, "--settings", json.dumps(settings),
                   "--out", out], "invalid pretraining settings", named)
    assert not out.exists()


def test_model_file_with_a_malformed_architecture(trained_run, tmp_path, capsys):
    from advmim.train.checkpoint import load_checkpoint, save_checkpoint

    state = load_checkpoint(trained_run / "run" / "model.pt")
    state["architectures"] = {"C": ["unet"]}
    save_checkpoint(tmp_path / "model.pt", state)
    fails(capsys, ["evaluate", "--model", tmp_path / "model.pt", "--data", trained_run / "data",
                   "--out", tmp_path / "m.json"], "architectures/C: expected")
    state["architectures"] = {"C": {"name": "unet", "params": {"widths": 3}}}
    save_checkpoint(tmp_path / "model.pt", state)
    fails(capsys, ["evaluate", "--model", tmp_path / "model.pt", "--data", trained_run / "data",
                   "--out", tmp_path / "m.json"], "network 'C': cannot build its stored unet")


def test_training_slice_with_a_non_integer_label(phantom_data, tiny_settings, tmp_path, capsys):
    import h5py

    data = _copy_data(phantom_data, tmp_path)
    target = _first_labeled_slice(data)
    with h5py.File(target) as f:
        label = f["label"][...].astype("float32")
    label[0, 0] = 1.5
    _rewrite(target, label=label)
    path = _write_settings(tmp_path, tiny_settings("supervised_unet"))
    fails(capsys, ["train", "--data", data, "--settings-file", path, "--out", tmp_path / "run"],
          str(target), "label contains non-integer values")


def test_results_dir_with_braces_fails_validation():
    import yaml

    from advmim.config import validate_config
    from advmim.errors import ConfigError

    config = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    config["results_dir"] = "r{dataset}"
    with pytest.raises(ConfigError, match="results_dir: 'r{dataset}' does not match"):
        validate_config(config)


@pytest.mark.parametrize("configfile", sorted(p.name for p in (ROOT / "config").glob("*.yaml")))
def test_every_run_the_workflow_writes_passes_the_run_settings_validator(configfile):
    """The workflow's run settings (advmim.config.run_settings) and `advmim train`'s validator
    agree: a key added to one and not the other fails here, not in a training job."""
    from advmim.config import load_config, run_settings
    from advmim.jobs import train_jobs
    from advmim.schema import check_run_settings

    config = load_config(ROOT / "config" / configfile) if configfile == "config.yaml" else None
    if config is None:
        import yaml

        from advmim.config import validate_config

        base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
        override = yaml.safe_load((ROOT / "config" / configfile).read_text()) or {}
        for key, value in override.items():
            base[key] = {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
        config = validate_config(base)
    for job in train_jobs(config):
        check_run_settings(run_settings(config, job.method, job.labeled, job.seed, job.variant),
                           f"{configfile}: {job.run}")
