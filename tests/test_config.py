"""Configuration: schema and meaning checked before any job starts, one clear error."""

import copy
from pathlib import Path

import pytest
import yaml

from advmim.config import load_config, run_settings, validate_config
from advmim.errors import ConfigError
from tests.workflow_utils import shipped_config

DEFAULT = Path(__file__).resolve().parents[1] / "config" / "config.yaml"


@pytest.fixture
def config():
    return yaml.safe_load(DEFAULT.read_text())


def test_shipped_configs_are_valid():
    for path in sorted(DEFAULT.parent.glob("*.yaml")):
        shipped_config(path.name)  # merged over config/config.yaml, as the workflow reads it


def test_unknown_method_lists_valid_names(config):
    config["methods"].append("fixmatch")
    with pytest.raises(ConfigError, match="unknown method 'fixmatch'.*valid: .*advmim"):
        validate_config(config)


def test_more_labeled_than_training_patients(config):
    config["labeled"] = [2, 99]
    with pytest.raises(ConfigError, match="99 labeled patients but the training split has only 16"):
        validate_config(config)


def test_missing_key_and_wrong_type_are_both_reported(config):
    del config["seeds"]
    config["training"]["iterations"] = "many"
    with pytest.raises(ConfigError) as info:
        validate_config(config)
    message = str(info.value)
    assert "<top>: missing key(s) seeds" in message
    assert "training/iterations: 'many' is not of type 'integer'" in message


def test_class_names_must_match_num_classes(config):
    config["dataset"]["class_names"] = ["RV", "LV"]
    with pytest.raises(ConfigError, match="2 names for 3 foreground classes"):
        validate_config(config)


def test_bad_yaml_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [unclosed\n")
    with pytest.raises(ConfigError, match=str(bad)):
        load_config(bad)


def test_run_settings_merge_method_params(config):
    config["method_params"] = {"advmim": {"mask_block": 16}}
    settings = run_settings(config, "advmim", 2, 7)
    assert settings["method"] == "advmim" and settings["labeled"] == 2 and settings["seed"] == 7
    assert settings["method_params"]["mask_block"] == config["method_params"]["advmim"]["mask_block"]
    assert settings["method_params"]["adv_weight"] == 0.001  # method default kept


def test_run_settings_rejects_unknown_param(config):
    config = copy.deepcopy(config)
    config["method_params"] = {"advmim": {"mask_shape": "round"}}
    with pytest.raises(ConfigError, match="unknown parameter.*mask_shape"):
        run_settings(config, "advmim", 2, 0)


def test_method_training_overrides_the_shared_settings(config):
    """training < method_training[method] < an ablation's training (published values per method)."""
    config = copy.deepcopy(config)
    config["method_training"] = {"advmim": {"lr": 0.05, "grad_clip": 5.0}, "cps": {"img_size": 96}}
    config["ablations"]["lr_0.01"] = {"method": "advmim", "training": {"lr": 0.01}}
    validate_config(config)
    assert run_settings(config, "advmim", 2, 0)["lr"] == 0.05
    assert run_settings(config, "advmim", 2, 0)["grad_clip"] == 5.0
    assert run_settings(config, "advmim", 2, 0, variant="lr_0.01")["lr"] == 0.01
    assert run_settings(config, "advmim", 2, 0, variant="lr_0.01")["grad_clip"] == 5.0
    assert run_settings(config, "cps", 2, 0)["img_size"] == 96
    assert run_settings(config, "uamt", 2, 0)["img_size"] == config["training"]["img_size"]


def test_method_training_is_validated(config):
    config = copy.deepcopy(config)
    config["method_training"] = {"advmim": {"lr": "fast", "iterations": -5}, "nosuch": {}}
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert "method_training/advmim/lr" in str(err.value)
    assert "method_training/advmim/iterations" in str(err.value)
    config["method_training"] = {"nosuch": {"lr": 0.1}}
    with pytest.raises(ConfigError, match="method_training: unknown method 'nosuch'"):
        validate_config(config)
    config["method_training"] = {}
    config["ablations"]["bad"] = {"method": "advmim", "training": {"iterations": -5}}
    with pytest.raises(ConfigError, match="ablations/bad/training/iterations"):
        validate_config(config)


def test_shipped_paper_protocol_sets_published_values():
    config = shipped_config("acdc.yaml")
    assert run_settings(config, "uamt", 3, 1337)["lr"] == 0.01  # SSL4MIS scripts
    assert run_settings(config, "ctct", 3, 1337)["lr"] == 0.01
    advmim = run_settings(config, "advmim", 3, 1337)  # authors' train.py
    assert (advmim["lr"], advmim["img_size"], advmim["batch_labeled"], advmim["grad_clip"]) == (0.05, 224, 8, 5.0)


def test_method_and_network_settings_are_validated_before_any_job(config):
    """Every problem in one error, each with its key: types from the declared defaults, ranges
    and choices from the method's rules, unknown keys."""
    config = copy.deepcopy(config)
    config["method_params"] = {"advmim": {"mask_ratio": 1.5, "mask_block": "big"},
                               "cps": {"init": "orthogonal", "cros_on_labeled": True}}
    config["ablations"] = {"bad": {"method": "uamt", "params": {"mc_passes": 1.5}}}
    config["models"] = {"unet": {"channels": "wide", "nosuch": 1}, "vit": {}, "discriminator": {"base": 1.5}}
    with pytest.raises(ConfigError) as err:
        validate_config(config, source="my.yaml")
    text = str(err.value)
    for fragment in (
        "my.yaml: invalid configuration",
        "method_params/advmim/mask_ratio: 1.5 is outside [0.0, 1.0]",
        "method_params/advmim/mask_block: expected an integer (like the default 32), got 'big'",
        "method_params/cps/init: 'orthogonal' is not one of 'default', 'kaiming_xavier'",
        "method_params/cps/cros_on_labeled: unknown parameter of cps",
        "ablations/bad/params/mc_passes: expected an integer",
        "models/unet/channels: expected a list",
        "models/unet/nosuch: unknown setting",
        "models/vit: unknown network",
        "models/discriminator/base: expected an integer",
    ):
        assert fragment in text, fragment


def test_the_method_itself_refuses_invalid_parameters(config):
    from advmim.methods import get_method

    settings = run_settings(copy.deepcopy(config), "advmim", 2, 0)
    settings["method_params"]["mask_ratio"] = 1.5
    import torch

    with pytest.raises(ConfigError, match=r"method 'advmim': invalid parameters: mask_ratio: 1.5 is outside"):
        get_method("advmim")(settings, torch.device("cpu"))


def test_every_method_parameter_has_help_and_a_valid_default():
    from advmim.methods import get_method, method_names

    for name in method_names():
        cls = get_method(name)
        assert set(cls.param_help) == set(cls.default_params), name
        assert cls.param_problems(cls.default_params) == [], name


def test_methods_command_lists_methods_and_parameters(capsys):
    from advmim.cli import main

    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "advmim" in out and "Deep Co-Training" in out
    assert main(["methods", "cps"]) == 0
    out = capsys.readouterr().out
    assert "kaiming_xavier" in out and "cross_on_labeled" in out


def test_missing_keys_take_the_schema_defaults_everywhere(config):
    """One source of defaults: validation and run_settings fill the schema's `default:` values;
    overrides under method_training stay partial; the phantom CLI's defaults are the same."""
    import argparse

    from advmim.commands import phantom as phantom_cmd
    from advmim.config import fill_defaults, load_schema, schema_default

    bare = copy.deepcopy(config)
    for key in ("threads", "checkpoint_every", "augmentation", "momentum", "grad_clip"):
        bare["training"].pop(key, None)
    bare["dataset"].pop("phantom", None)  # 24 patients: the plug-in's split too
    bare["dataset"].pop("split", None)
    bare["evaluation"].pop("split", None)
    bare["method_training"] = {"advmim": {"grad_clip": 5.0}}
    validate_config(bare)
    assert bare["training"]["threads"] == 1 and bare["training"]["checkpoint_every"] == 100
    assert bare["training"]["augmentation"] == "ssl4mis" and bare["training"]["grad_clip"] is None
    assert bare["dataset"]["phantom"] == {"patients": 24, "seed": 2025, "size": 96, "zoom": [1, 1]}
    assert bare["evaluation"]["split"] == "test"
    assert bare["method_training"] == {"advmim": {"grad_clip": 5.0}}  # no defaults in overrides
    settings = run_settings(bare, "advmim", 2, 0)
    assert settings["grad_clip"] == 5.0 and settings["momentum"] == 0.9

    parser = argparse.ArgumentParser()
    phantom_cmd.add_arguments(parser)
    args = parser.parse_args(["--out", "x"])
    assert (args.patients, args.seed, args.size) == (24, 2025, [96])
    assert schema_default("training", "checkpoint_every") == 100
    assert fill_defaults({}, load_schema())["plugins"] == []


def test_embedded_default_does_not_restate_a_schema_default():
    """config/config.yaml sets no key to the value the schema defaults it to (one source)."""
    from advmim.config import load_schema, schema_default

    schema = load_schema()
    raw = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
    restated = []

    def walk(value, keys):
        for key, sub in value.items():
            path = (*keys, key)
            try:
                default = schema_default(*path)
            except KeyError:
                default = KeyError
            if isinstance(sub, dict) and key not in ("method_training", "method_params", "ablations", "models"):
                walk(sub, path)
            elif default is not KeyError and sub == default and sub not in ({}, []):
                restated.append("/".join(path))

    assert schema["properties"]
    walk(raw, ())
    assert restated == []
