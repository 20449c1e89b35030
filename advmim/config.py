"""Workflow configuration: load, validate (schema + meaning) and resolve per-run settings."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from advmim.errors import ConfigError
from advmim.schema import fill_defaults as fill_schema_defaults
from advmim.schema import load_schema, resolve, schema_default  # noqa: F401 (public here too)
from advmim.schema import problems as schema_problems


def fill_defaults(config: dict, schema: dict | None = None) -> dict:
    """Set every missing key that has a schema ``default:`` (:func:`advmim.schema.fill_defaults`),
    and the dataset's classes from its plug-in, in place."""
    _fill_dataset_classes(config.get("dataset"))
    return fill_schema_defaults(config, schema)


def _fill_dataset_classes(ds: Any) -> None:
    """``dataset.num_classes`` and ``class_names`` default to the dataset plug-in's."""
    from advmim.data.registry import dataset_names, get_dataset

    if isinstance(ds, dict) and isinstance(ds.get("name"), str) and ds["name"] in dataset_names():
        plugin = get_dataset(ds["name"])
        ds.setdefault("num_classes", plugin.num_classes)
        ds.setdefault("class_names", list(plugin.class_names))


def type_overrides(config: dict, overrides: Mapping) -> dict:
    """Give ``snakemake --config key=value`` values the types a YAML config file would give them,
    in place: Snakemake passes ``seeds=[1337]`` as ``['1337']`` and ``training='{"iterations":
    100}'`` as ``{'iterations': '100'}``. Each string where the schema does not allow a string (or
    says nothing) is read as YAML; a number where the schema wants a string becomes that string."""
    schema = load_schema()

    def typed(value: Any, node: dict) -> Any:
        node = resolve(node, schema)
        types = node.get("type", [])
        types = [types] if isinstance(types, str) else types
        if isinstance(value, Mapping):
            extra = node.get("additionalProperties")
            return {k: typed(v, node.get("properties", {}).get(k, extra if isinstance(extra, dict) else {}))
                    for k, v in value.items()}  # fmt: skip
        if isinstance(value, list):
            return [typed(v, node.get("items", {})) for v in value]
        if isinstance(value, str) and "string" not in types:
            try:
                parsed = yaml.safe_load(value)
            except yaml.YAMLError:
                return value  # left as it was: validation names the key
            return value if isinstance(parsed, str) else typed(parsed, node)
        if types == ["string"] and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    def merge(into: dict, new: dict) -> None:  # Snakemake's update_config: nested keys merge
        for key, value in new.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value

    merge(config, typed(overrides, schema))
    return config


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a syntax error names the file, line and column."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: configuration file not found") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text file (byte {exc.start} is not UTF-8)") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from exc


def load_config(path: str | Path) -> dict:
    """Read and validate a YAML configuration file."""
    return validate_config(read_yaml(path), source=str(path))


def validate_config(config: Any, source: str = "config") -> dict:
    """Check schema and meaning; raise one ConfigError listing every problem found."""
    if not isinstance(config, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping, got {type(config).__name__}")
    problems = schema_problems(config, load_schema())
    if not problems:
        from advmim.methods import load_plugins

        load_plugins(config.get("plugins"))  # their methods must be known before the checks below
        problems = _semantic_problems(fill_defaults(config))
    if problems:
        raise ConfigError(f"{source}: invalid configuration:\n  - " + "\n  - ".join(problems))
    return config


def training_patients(config: dict) -> int | None:
    """Number of training patients the dataset's split provides (None when unknown)."""
    from advmim.data.registry import get_dataset

    return get_dataset(config["dataset"]["name"]).training_cases(config["dataset"])


def check_data_source(config: dict) -> None:
    """Before a workflow starts: the folders a config names exist, and a bring-your-own dataset
    (no download) has one; the ConfigError says where to get the data."""
    from advmim.data.registry import get_dataset

    ds = config["dataset"]
    plugin = get_dataset(ds["name"])
    hint = plugin.data_hint
    for key in ("preprocessed_dir", "raw_dir"):
        if ds.get(key) and not Path(ds[key]).is_dir():
            raise ConfigError(f"dataset/{key}: folder {ds[key]!r} not found" + (f". {hint}" if hint else ""))
    if hint and not ds.get("raw_dir") and not ds.get("preprocessed_dir"):
        raise ConfigError(f"dataset/raw_dir: {ds['name']} cannot be downloaded automatically. {hint}")
    if config["evaluation"]["mode"] == "strict":
        _check_spacing(config, plugin)


def _check_spacing(config: dict, plugin) -> None:
    """``strict`` metrics are in mm: every evaluated volume must carry its voxel spacing."""
    ds, split = config["dataset"], config["evaluation"]["split"]
    fix = "use evaluation/mode: paper (voxel HD95)"
    if not plugin.stores_spacing:
        raise ConfigError(f"evaluation/mode: strict needs voxel spacing, which {ds['name']} data "
                          f"does not store; {fix}")
    if not ds.get("preprocessed_dir"):
        return
    import h5py

    from advmim.data.splits import read_list

    folder = Path(ds["preprocessed_dir"])
    for case in read_list(folder / f"{split}.list"):
        path = folder / "data" / f"{case}.h5"
        try:
            with h5py.File(path, "r") as f:
                has = "spacing" in f.attrs
        except OSError:
            continue  # missing or unreadable: prepare-ssl4mis names it
        if not has:
            raise ConfigError(f"evaluation/mode: strict needs voxel spacing, but {path} (from "
                              f"dataset/preprocessed_dir) has none (SSL4MIS h5 files carry no "
                              f"spacing); {fix}, or convert from the raw data")


def held_out(config: dict, split: str) -> int | None:
    """Patients in the ``val`` or ``test`` split of a config (None when the data decides)."""
    from advmim.data.registry import get_dataset

    if "+" in split:  # val+test
        sizes = [held_out(config, part) for part in split.split("+")]
        return None if None in sizes else sum(sizes)
    return get_dataset(config["dataset"]["name"]).held_out(config["dataset"], split)


def _parameter_problems(config: dict, names: set[str]) -> list[str]:
    """Method parameters (``method_params``, ablation ``params``) against each method's declared
    parameters, and network settings (``models``) against each network's."""
    from advmim.methods import method_card
    from advmim.models.settings import NETWORK_SETTINGS, model_defaults
    from advmim.values import value_problem

    problems = []
    for name, params in config.get("method_params", {}).items():
        if name in names:
            problems += [f"method_params/{name}/{p}" for p in method_card(name).param_problems(params)]
    for variant, entry in config.get("ablations", {}).items():
        if entry["method"] in names:
            found = method_card(entry["method"]).param_problems(entry.get("params", {}))
            problems += [f"ablations/{variant}/params/{p}" for p in found]
    for arch, params in (config.get("models") or {}).items():
        if arch not in NETWORK_SETTINGS:
            problems.append(f"models/{arch}: unknown network; valid: {', '.join(sorted(NETWORK_SETTINGS))}")
            continue
        if not isinstance(params, dict):
            problems.append(f"models/{arch}: expected a mapping of settings, got {params!r}")
            continue
        defaults = model_defaults(arch)
        for key, value in params.items():
            if key not in defaults:
                problems.append(f"models/{arch}/{key}: unknown setting; valid: {', '.join(sorted(defaults))}")
            elif (why := value_problem(value, defaults[key])):
                problems.append(f"models/{arch}/{key}: {why}")
    return problems


def _size_problems(config: dict, methods: list[str]) -> list[str]:
    """Input sizes every network of each method accepts (advmim.models.settings.size_problem)."""
    from advmim.methods import method_card
    from advmim.models.settings import ARCH_OF_KEY, size_problem

    sizes = {("training/img_size", None): config["training"]["img_size"]}
    for name, training in config.get("method_training", {}).items():
        if "img_size" in training:
            sizes[(f"method_training/{name}/img_size", name)] = training["img_size"]
    for variant, entry in config.get("ablations", {}).items():
        if "img_size" in entry.get("training", {}):
            sizes[(f"ablations/{variant}/training/img_size", entry["method"])] = entry["training"]["img_size"]
    found: dict[tuple[str, str], str] = {}
    for (where, only), size in sizes.items():
        for method in methods:
            for key in method_card(method).reported if only in (None, method) else ():
                arch = ARCH_OF_KEY.get(key)
                problem = arch and size_problem(arch, size, (config.get("models") or {}).get(arch))
                if problem and (where, arch) not in found:
                    found[where, arch] = f"{where}: {problem} (method {method})"
    return list(found.values())


def _comparison_problems(config: dict, names: list[str]) -> list[str]:
    """Unknown methods or networks in ``report.comparisons`` (checked again, in full, by the table)."""
    from advmim.methods import method_card

    problems = []
    for i, comparison in enumerate(config.get("report", {}).get("comparisons", [])):
        for side in ("row", "vs"):
            method, _, network = comparison[side].partition(":")
            if method == "group":
                continue
            if method not in names:
                problems.append(f"report/comparisons/{i}/{side}: unknown method {method!r}")
            elif network and network not in method_card(method).reported:
                problems.append(f"report/comparisons/{i}/{side}: {method} reports no network {network!r}")
    return problems


def _semantic_problems(config: dict) -> list[str]:
    from advmim.data.registry import dataset_names
    from advmim.methods import method_names

    problems = []
    ds = config["dataset"]
    if ds["name"] not in dataset_names():
        problems.append(f"dataset/name: unknown dataset {ds['name']!r}; valid: {', '.join(dataset_names())}")
    if "class_names" in ds and len(ds["class_names"]) != ds["num_classes"] - 1:
        problems.append(
            f"dataset/class_names: {len(ds['class_names'])} names for {ds['num_classes'] - 1} "
            "foreground classes (num_classes counts the background)"
        )
    names = method_names()
    used = list(config["methods"]) + [v["method"] for v in config.get("ablations", {}).values()]
    for name in used:
        if name not in names:
            problems.append(f"methods: unknown method {name!r}; valid: {', '.join(names)}")
    if ds["name"] in dataset_names():
        problems += _split_problems(config)
    for key in ("method_params", "method_training"):
        for name in config.get(key, {}):
            if name not in names:
                problems.append(f"{key}: unknown method {name!r}; valid: {', '.join(names)}")
    problems += _parameter_problems(config, set(names))
    problems += _size_problems(config, [n for n in used if n in names])
    problems += _comparison_problems(config, names)
    return problems


def _split_problems(config: dict) -> list[str]:
    """The dataset's split against ``labeled`` (its training cases, its valid labeled sizes)
    and ``evaluation.split``."""
    from advmim.data.registry import get_dataset

    problems, ds = [], config["dataset"]
    plugin = get_dataset(ds["name"])
    n_train = plugin.training_cases(ds)
    if n_train is not None:
        if n_train < 1:
            problems.append(f"dataset/split: no training patients left ({n_train})")
        for n in config["labeled"]:
            if n > n_train:
                problems.append(
                    f"labeled: {n} labeled patients but the training split has only {n_train}"
                )
    choices = plugin.labeled_choices(ds)
    invalid = [n for n in config["labeled"] if choices is not None and n not in choices]
    if invalid:
        problems.append(f"labeled: {', '.join(map(str, invalid))}: {ds['name']} has labeled lists "
                        f"for {', '.join(map(str, choices))} only; valid: {', '.join(map(str, choices))}")
    split = config["evaluation"]["split"]
    if held_out(config, split) == 0:
        problems.append(f"evaluation/split: {split!r} but dataset/split/{split} is 0: "
                        "no volumes to evaluate")
    if config["evaluation"]["checkpoint"] == "best_val" and held_out(config, "val") == 0:
        problems.append("evaluation/checkpoint: best_val but dataset/split/val is 0: no volumes to select on")
    return problems


def run_settings(config: dict, method: str, labeled: int, seed: int, variant: str | None = None) -> dict:
    """Everything one training run needs, as one JSON-serialisable dict.

    Training settings: ``training``, then the method's ``method_training`` entry (the settings
    it was published with), then an ablation ``variant``'s ``training``; parameters likewise
    from the method's defaults, ``method_params`` and the variant's ``params``.
    """
    from advmim.methods import load_plugins, method_card, resolve_plugin

    config = fill_defaults(copy.deepcopy(config))
    plugins = [resolve_plugin(s) for s in config["plugins"]]
    load_plugins(plugins)
    cls = method_card(method)
    training = copy.deepcopy(config["training"])
    training.update(config["method_training"].get(method, {}))
    params = dict(cls.default_params)
    params.update(config["method_params"].get(method, {}))
    if variant is not None:
        entry = config["ablations"].get(variant)
        if entry is None:
            raise ConfigError(f"unknown ablation variant {variant!r}")
        params.update(entry.get("params", {}))
        training.update(entry.get("training", {}))
    unknown = set(params) - set(cls.default_params)
    if unknown:
        raise ConfigError(
            f"method {method!r}: unknown parameter(s) {sorted(unknown)}; "
            f"valid: {sorted(cls.default_params)}"
        )
    return {
        "dataset": config["dataset"]["name"],
        "num_classes": config["dataset"]["num_classes"],
        "class_names": list(config["dataset"]["class_names"]),
        "method": method,
        "variant": variant,
        "labeled": int(labeled),
        "seed": int(seed),
        **training,
        "models": copy.deepcopy(config.get("models", {})),
        "method_params": params,
        **({"plugins": plugins} if plugins else {}),
        **({"labeled_draw_seed": int(seed)} if config["labeled_draws"] == "per_seed" else {}),
        # evaluation.checkpoint: best_val -> validation during training (advmim.train.validation)
        **({"val_every": config["evaluation"]["val_every"]}
           if config["evaluation"]["checkpoint"] == "best_val" else {}),
    }


MIM = "mim"  # models.swin_unet.pretrained value: the encoder pretrained by rule pretrain_mim


def pretrain_settings(config: dict, settings: dict) -> dict:
    """What the masked-image-modelling pretraining for one run's Swin-UNet needs: the dataset,
    the run's input size and Swin-UNet settings, and ``pretrain:`` (its own augmentation, LR,
    ...). Runs that agree on these share one pretraining (:func:`pretrain_key`)."""
    config = fill_defaults(copy.deepcopy(config))
    swin = {k: v for k, v in settings["models"].get("swin_unet", {}).items() if not k.startswith("pretrained")}
    return {"dataset": settings["dataset"], "img_size": settings["img_size"], "swin_unet": swin,
            "threads": settings["threads"], "device": settings["device"], "pretrain": config["pretrain"]}


def pretrain_key(pretraining: dict) -> str:
    """A short stable name for one pretraining's settings (threads and device are not part of
    it: where it runs does not choose which pretraining a run asks for)."""
    import hashlib
    import json

    text = json.dumps({k: v for k, v in pretraining.items() if k not in ("threads", "device")},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def mim_pretrainings(config: dict) -> dict[str, dict]:
    """``{key: pretraining settings}`` of every training job whose Swin-UNet starts from
    ``pretrained: mim``: one pretraining per dataset and settings, shared by all runs."""
    from advmim.jobs import train_jobs
    from advmim.methods import method_card

    out = {}
    for job in train_jobs(config):
        settings = run_settings(config, job.method, job.labeled, job.seed, job.variant)
        swin = settings["models"].get("swin_unet", {})
        if swin.get("pretrained") == MIM and "swin_unet" in method_card(job.method).architectures:
            pretraining = pretrain_settings(config, settings)
            out[pretrain_key(pretraining)] = pretraining
    return out
