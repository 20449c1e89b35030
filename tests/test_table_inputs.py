"""Issue 22, tables: metrics files that cannot be combined are refused (one line per problem,
naming the file, exit 2, nothing written); no text from a file reaches a renderer as markup."""

import json
import os
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest
from report_helpers import study
from test_report_outputs import HEADER, _config

from advmim.cli import main

METHODS = ["supervised_unet", "ctct", "advmim", "full_unet"]


def _edit(path: Path, change) -> Path:
    result = json.loads(path.read_text())
    change(result)
    path.write_text(json.dumps(result))
    return path


def _set_volume(metric, value):
    def change(r):
        r["networks"]["S"]["per_volume"][0][metric]["RV"] = value
    return change


def _copy_as(path: Path, name: str, change=None) -> Path:
    copy = path.with_name(name)
    shutil.copy(path, copy)
    return _edit(copy, change) if change else copy


CASES = {
    "dice above 1": (lambda f: _edit(f, _set_volume("dice", 5.0)), "dice of RV 5.0 is outside [0.0, 1.0]"),
    "negative dice": (lambda f: _edit(f, _set_volume("dice", -3.0)), "dice of RV -3.0 is outside [0.0, 1.0]"),
    "NaN dice": (lambda f: _edit(f, _set_volume("dice", float("nan"))), "dice of RV nan is not a finite number"),
    "negative hd95": (lambda f: _edit(f, _set_volume("hd95", -1.0)), "hd95 of RV -1.0 is outside [0.0, inf]"),
    "empty per_volume": (lambda f: _edit(f, lambda r: r["networks"]["S"].update(per_volume=[])),
                         "networks/S: per_volume is empty (no volume evaluated)"),
    "labeled -1": (lambda f: _edit(f, lambda r: r.update(labeled=-1)), "labeled must be an integer >= 1, got -1"),
    "seed 'zero'": (lambda f: _edit(f, lambda r: r.update(seed="zero")),
                    "seed must be an integer >= 0, got 'zero'"),
    "summary off its per-volume values": (
        lambda f: _edit(f, lambda r: r["networks"]["S"]["mean"]["dice"].update(RV=0.99)),
        "networks/S: mean dice of RV is 0.99 but its per-volume values average"),
    "another dataset": (lambda f: _edit(f, lambda r: r.update(dataset="promise12")),
                        "dataset 'promise12', but the configuration: 'phantom'"),
    "another metric mode": (lambda f: _edit(f, lambda r: r.update(mode="strict")),
                            "mode 'strict', but the configuration: 'paper'"),
    "another split": (lambda f: _edit(f, lambda r: r.update(split="val")),
                      "split 'val', but the configuration: 'test'"),
    "another class list": (lambda f: _edit(f, lambda r: r.update(classes=["RV", "LV", "Myo"])),
                           "classes ['RV', 'LV', 'Myo'], but the configuration: ['RV', 'Myo', 'LV']"),
    "duplicate seed": (lambda f: _copy_as(f, "advmim_again.json"),
                       "advmim_again.json: seed 0 of advmim, 2 labeled again (also"),
    "two settings in one cell": (
        lambda f: _copy_as(f, "advmim_long.json", lambda r: r.update(seed=7, iterations=500)),
        "advmim_long.json: iterations 500, but"),
    "other volumes": (lambda f: _edit(f, lambda r: [v.update(case="patient099_frame01")
                                                   for n in r["networks"].values() for v in n["per_volume"][:1]]),
                      "evaluated other volumes than most files (1 of its 8 cases not among their 8)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_table_refuses_metrics_that_cannot_be_combined(case, tmp_path, capsys):
    files = study(tmp_path / "m")
    advmim = next(f for f in files if f.name.startswith("advmim"))
    make, message = CASES[case]
    extra = make(advmim)
    inputs = sorted({*files, extra})
    out = tmp_path / "t" / "phantom.md"
    rc = main(["table", "--config-json", _config(METHODS), "--metrics", *map(str, inputs),
               "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and message in err, err
    lines = err.strip().splitlines()
    assert "problem(s) in the metrics files, no table written" in lines[0]
    assert all(line.startswith(str(tmp_path / "m")) for line in lines[1:]), lines  # each names its file
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("source", ["[link=javascript:alert(1)]paper[/link]", "see [/bold] table",
                                    "<script>alert(1)</script> & `x` | *y*"])
def test_reference_text_reaches_no_renderer_as_markup(source, tmp_path):
    files = study(tmp_path / "m")
    refs = tmp_path / "refs.csv"
    refs.write_text(HEADER.rstrip("\n") + ",protocol\n"
                    f"phantom,advmim,2,dice,91.5,\"{source}\",\"{source}\"\n")
    out = tmp_path / "t" / "phantom.md"
    proc = subprocess.run([str(Path(sys.executable).parent / "advmim"), "table", "--config-json", _config(METHODS), "--metrics", *map(str, files),
                           "--out", str(out), "--references", str(refs)], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")})
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == ["phantom.csv", "phantom.html", "phantom.md", "phantom.tex"]
    html = out.with_suffix(".html").read_text()
    assert "<a " not in html and "<script" not in html and escape(source, quote=True) in html
    assert source.split("]")[0] in proc.stdout.replace("\n", "")  # printed as written, not as markup
    assert "…" not in proc.stdout.split("Dataset:")[0]  # off a terminal: as wide as the table needs
    md = out.with_suffix(".md").read_text()
    assert "<script" not in md.replace("\\<", "") and "[link" not in md.replace("\\[link", "")  # escaped


def test_all_formats_are_written_or_none(tmp_path):
    from advmim.report.table import write_all

    files = {tmp_path / "a.md": "a", tmp_path / "b.csv": "b", tmp_path / "c.html": 3}  # the last fails
    with pytest.raises(TypeError):
        write_all(files)
    assert list(tmp_path.iterdir()) == []  # neither a.md nor b.csv, no temporaries
    write_all({p: "ok" for p in files})
    assert sorted(p.read_text() for p in files) == ["ok"] * 3


def test_config_refuses_comparisons_of_unknown_rows_before_any_run():
    from advmim.config import validate_config
    from advmim.errors import ConfigError

    config = json.loads(_config(METHODS))
    config["report"] = {"comparisons": [{"row": "fixmatch", "vs": "ctct:S"}, {"row": "advmim:X", "vs": "group:lower"}]}
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert "report/comparisons/0/row: unknown method 'fixmatch'" in str(err.value)
    assert "report/comparisons/1/row: advmim reports no network 'X'" in str(err.value)
    config["report"] = {"comparisons": [{"row": "advmim:S"}]}
    with pytest.raises(ConfigError, match=r"report/comparisons/0: missing key\(s\) vs"):
        validate_config(config)
