"""Configuration: schema and meaning checked before any job starts, one clear error."""

import copy
from pathlib import Path

import pytest
import yaml

from advmim.config import load_config, run_settings, validate_config
from advmim.errors import ConfigError

DEFAULT = Path(__file__).resolve().parents[1] / "config" / "config.yaml"


@pytest.fixture
def config():
    return yaml.safe_load(DEFAULT.read_text())


def test_shipped_configs_are_valid():
    for path in sorted(DEFAULT.parent.glob("*.yaml")):
        load_config(path)


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
    assert "'seeds' is a required property" in message
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
    settings = run_settings(config, "advmim", 2, 7)
    assert settings["method"] == "advmim" and settings["labeled"] == 2 and settings["seed"] == 7
    assert settings["method_params"]["mask_block"] == config["method_params"]["advmim"]["mask_block"]
    assert settings["method_params"]["adv_weight"] == 0.001  # method default kept


def test_run_settings_rejects_unknown_param(config):
    config = copy.deepcopy(config)
    config["method_params"]["advmim"]["mask_shape"] = "round"
    with pytest.raises(ConfigError, match="unknown parameter.*mask_shape"):
        run_settings(config, "advmim", 2, 0)
