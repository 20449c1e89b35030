"""Tables as Markdown, CSV, LaTeX, HTML and rich: daggers, n, reported numbers with sources."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from report_helpers import study

from advmim.cli import main
from advmim.errors import ConfigError
from advmim.report.latex import latex_escape, latex_table
from advmim.report.references import load_references, reference_for

ROOT = Path(__file__).resolve().parents[1]
HEADER = "dataset,method,labeled,metric,value,source\n"


def _config(methods):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["methods"] = methods
    config["labeled"] = [2]
    return json.dumps(config)


def test_shipped_reference_file_is_valid_and_sourced():
    refs = load_references(ROOT / "config" / "reference_results.csv")
    assert list(refs.columns[:6]) == ["dataset", "method", "labeled", "metric", "value", "source"]
    assert all(refs["source"].str.strip() != "")


def test_row_without_source_is_rejected(tmp_path):
    path = tmp_path / "refs.csv"
    path.write_text(HEADER + "acdc,advmim,3,dice,88.1,\n")
    with pytest.raises(ConfigError, match="no source"):
        load_references(path)
    path.write_text("dataset,method,labeled,metric,value\nacdc,advmim,3,dice,88.1\n")
    with pytest.raises(ConfigError, match="missing column"):
        load_references(path)
    path.write_text(HEADER + "acdc,advmim,3,dice,88.1,Paper, Table 1\n")  # unquoted comma
    with pytest.raises(ConfigError, match="quote values"):
        load_references(path)


def test_reference_matches_first_reported_network(tmp_path):
    path = tmp_path / "refs.csv"
    path.write_text(HEADER + "phantom,advmim,2,dice,91.5,\"Made-up test source, Table 9\"\n"
                    "phantom,advmim:C,2,dice,80.0,test\n")
    refs = load_references(path)
    assert reference_for(refs, "phantom", "advmim", "S", 2, "dice") == (91.5, "Made-up test source, Table 9")
    assert reference_for(refs, "phantom", "advmim", "C", 2, "dice")[0] == 80.0
    assert reference_for(refs, "phantom", "advmim", "S", 3, "dice") is None


def test_table_command_writes_all_formats(tmp_path, capsys):
    files = study(tmp_path / "m", seeds=(0, 1))
    refs = tmp_path / "refs.csv"
    refs.write_text(HEADER + "phantom,advmim,2,dice,91.5,Test source T1\n")
    out = tmp_path / "t" / "phantom.md"
    rc = main(["table", "--config-json", _config(["supervised_unet", "ctct", "advmim", "full_unet"]),
               "--metrics", *map(str, files), "--out", str(out), "--references", str(refs),
               "--stats-out", str(tmp_path / "t" / "stats.csv")])
    assert rc == 0
    md = out.read_text()
    ours = next(line for line in md.splitlines() if line.startswith("| AdvMIM (S)"))
    assert "†" in ours and "| 91.50 |" in ours  # significant vs CTCT (S); reported number beside ours
    assert "2 labeled: Dice ↑ reported" in md and "Test source T1" in md and "Wilcoxon" in md
    assert md.count("| AdvMIM (S)") == 1 + 3  # class mean + per-class sections, no duplicate rows
    csv = pd.read_csv(out.with_suffix(".csv"))
    assert set(csv["n_seeds"]) == {2} and csv["dice_std"].notna().all()
    tex = out.with_suffix(".tex").read_text()
    assert all(r in tex for r in (r"\toprule", r"\midrule", r"\bottomrule", r"$^{\dagger}$"))
    assert "<table" in out.with_suffix(".html").read_text() or "<pre" in out.with_suffix(".html").read_text()
    stats = pd.read_csv(tmp_path / "t" / "stats.csv")
    assert list(stats["unit"]) == ["volume", "seed"]
    printed = capsys.readouterr().out
    assert "AdvMIM (S)" in printed and "┃" in printed  # a rich table, not rendered Markdown


def _flat(names):
    rows = []
    for i, name in enumerate(names):
        rows.append({"row": name, "group": "semi", "labeled": 2, "dice": 0.5 + 0.1 * i, "dice_std": 0.01,
                     "hd95": 5.0 - i, "hd95_std": 0.1, "n_seeds": 2, "dice_best": i == len(names) - 1,
                     "hd95_best": i == len(names) - 1, "mark": "", "reported_dice": None,
                     "reported_hd95": None})
    return pd.DataFrame(rows)


def test_latex_bold_best_and_escaping():
    tex = latex_table(_flat(["plain", "a_b & c%"]), "T_1", "note: 50% ± 1")
    assert r"a\_b \& c\%" in tex and r"\caption{T\_1}" in tex
    assert r"\textbf{60.00 $\pm$ 1.00}" in tex and r"\textbf{50.00" not in tex
    assert r"50\% $\pm$ 1" in tex
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
    assert latex_escape("#$~^\\") == r"\#\$\textasciitilde{}\textasciicircum{}\textbackslash{}"


def test_rich_table_is_a_table():
    from rich.console import Console
    from rich.table import Table

    from advmim.report.terminal import print_table, rich_table

    flat = _flat(["U-Net [x]", "Best"])
    assert isinstance(rich_table(flat, "T"), Table)
    console = Console(record=True, width=120, force_terminal=False)
    print_table(flat, "Title", "foot", console=console)
    text = console.export_text()
    assert "U-Net [x]" in text and "60.00 ± 1.00" in text and "foot" in text
