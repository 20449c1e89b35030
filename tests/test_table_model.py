"""The table model: a metric added from a plug-in file appears in every format; optional metrics
get columns only when the files carry them; a missed structure is counted and never flatters."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from report_helpers import CLASSES, study

from advmim.cli import main
from advmim.report.metric_defs import METRICS, unregister_metric

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["supervised_unet", "ctct", "advmim", "full_unet"]
TOY_PLUGIN = '''
from advmim.report.metric_defs import MetricDef, register_metric

register_metric(MetricDef("toy", "Toyness", "min", {"*": "pts"}, optional=True))
'''


def _config(plugins=(), metrics=None):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(methods=METHODS, labeled=[2], plugins=list(plugins))
    if metrics:
        config["report"] = {"metrics": metrics}
    return json.dumps(config)


def _add_metric(files, key, value):
    """Per-volume values of ``key`` (``value(dice)``) beside Dice in every file, and their means."""
    for path in files:
        result = json.loads(path.read_text())
        for net in result["networks"].values():
            for vol in net["per_volume"]:
                vol[key] = {c: value(vol["dice"][c]) for c in CLASSES}
            means = {c: sum(v[key][c] for v in net["per_volume"]) / len(net["per_volume"]) for c in CLASSES}
            net["mean"][key] = {**means, "mean": sum(means.values()) / len(CLASSES)}
        path.write_text(json.dumps(result))


def _table(tmp_path, files, plugins=(), metrics=None):
    out = tmp_path / "t" / "phantom.md"
    assert main(["table", "--config-json", _config(plugins, metrics), "--metrics", *map(str, files),
                 "--out", str(out), "--stats-out", str(tmp_path / "t" / "stats.csv")]) == 0
    return out


def test_a_metric_from_a_plugin_file_shows_in_every_format(tmp_path, capsys):
    plugin = tmp_path / "lab" / "toy_metric.py"
    plugin.parent.mkdir()
    plugin.write_text(TOY_PLUGIN)
    files = study(tmp_path / "m", seeds=(0, 1))
    _add_metric(files, "toy", lambda d: round(3 * (1 - d), 6))
    try:
        out = _table(tmp_path, files, plugins=[str(plugin)], metrics=["dice", "hd95", "toy"])
        md = out.read_text()
        assert "2 labeled: Toyness (pts) ↓" in md
        unet = next(ln for ln in md.splitlines() if ln.startswith("| U-Net (all labels)"))
        assert "**0.03 ± 0.00**" in unet  # 3 x (1 - 0.99), the lowest: best
        csv = pd.read_csv(out.with_suffix(".csv"))
        assert {"toy", "toy_std", "toy_best"} <= set(csv.columns)
        assert r"Toyness (pts) $\downarrow$" in out.with_suffix(".tex").read_text()
        assert "Toyness (pts) ↓</th>" in out.with_suffix(".html").read_text()
        assert "Toyness (pts)" in capsys.readouterr().out
    finally:
        unregister_metric("toy")
    assert "toy" not in METRICS


def test_optional_jaccard_and_asd_columns_only_when_asked_and_present(tmp_path):
    files = study(tmp_path / "m")
    four = ["dice", "jaccard", "hd95", "asd"]
    header = _table(tmp_path, files, metrics=four).read_text().splitlines()[2]
    assert "Jaccard" not in header and "ASD" not in header  # asked; the files do not carry them
    _add_metric(files, "jaccard", lambda d: d / (2 - d))
    _add_metric(files, "asd", lambda d: 2 * (1 - d))
    header = _table(tmp_path / "default", files).read_text().splitlines()[2]
    assert "Jaccard" not in header and "ASD" not in header  # carried, not asked (report.metrics)
    md = _table(tmp_path / "again", files, metrics=four).read_text()
    header = md.splitlines()[2]
    assert header.index("Dice (%) ↑") < header.index("Jaccard (%) ↑") < header.index("HD95 (voxels) ↓") \
        < header.index("ASD (voxels) ↓") < header.index("missed")


def test_a_missed_structure_is_counted_and_never_bold(tmp_path, capsys):
    """Paper mode scores a missed structure HD95 0: the best-looking HD95 hides a miss."""
    files = study(tmp_path / "m", seeds=(0, 1))
    path = next(f for f in files if f.name == "full_unet_L2_s0.json")
    result = json.loads(path.read_text())
    net = result["networks"]["C"]
    vol = net["per_volume"][0]
    vol["dice"]["RV"], vol["hd95"]["RV"], vol["status"]["RV"] = 0.0, 0.0, "missed"
    for metric in ("dice", "hd95"):
        means = {c: sum(v[metric][c] for v in net["per_volume"]) / len(net["per_volume"]) for c in CLASSES}
        net["mean"][metric] = {**means, "mean": sum(means.values()) / len(CLASSES)}
    path.write_text(json.dumps(result))
    out = _table(tmp_path, files)
    md = out.read_text()
    full = next(ln for ln in md.splitlines() if ln.startswith("| U-Net (all labels)")).split(" | ")
    assert full[2] == "0.10 ± 0.00" and full[3] == "1 |"  # lowest HD95, not bold; 1 missed
    ours = next(ln for ln in md.splitlines() if ln.startswith("| AdvMIM (S)"))
    assert "**3.45 ± 0.07**" in ours  # the best HD95 among cells without a miss
    assert "2 labeled: HD95 (voxels) ↓" in md and "never bold" in md
    csv = pd.read_csv(out.with_suffix(".csv"))
    row = csv[(csv["method"] == "full_unet") & (csv["class"] == "mean")].iloc[0]
    assert row["missed"] == 1 and row["structures"] == 2 * 8 * 3 and not row["hd95_best"]
    rv = csv[(csv["method"] == "full_unet") & (csv["class"] == "RV")].iloc[0]
    assert rv["missed"] == 1 and rv["structures"] == 2 * 8
    tex = out.with_suffix(".tex").read_text()
    assert "\\textbf{0.10" not in tex and "& 0.10 $\\pm$ 0.00 & 1 \\\\" in tex
    html = out.with_suffix(".html").read_text()
    assert "<td>0.10 ± 0.00</td><td class=\"missed hit\">1</td>" in html
    assert "0.10 ± 0.00" in capsys.readouterr().out


@pytest.fixture(autouse=True)
def _only_builtin_metrics():
    before = dict(METRICS)
    yield
    assert before == METRICS
