"""Tables as Markdown, CSV, LaTeX, HTML and rich: daggers, n, published numbers with sources."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from report_helpers import study

from advmim.cli import main
from advmim.errors import ConfigError
from advmim.report.latex import latex_escape
from advmim.report.references import load_references, reference_for, sources

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
    assert all(refs["source"].str.strip() != "") and all(refs["protocol"] != "")
    # every source is a file at a pinned commit: owner/repo@<40 hex>:path
    assert all(refs["source"].str.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}:[\w./-]+"))
    repos = {s.split("@")[0]: n for s, n in refs["source"].value_counts().items()}
    assert repos == {"LiheYoung/UniMatch": 8, "magic-fortune/AdaMix": 14}
    assert "advmim" not in set(refs["method"])  # the AdvMIM paper's numbers could not be retrieved


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
                    "phantom,advmim:C,2,dice,80.0,test\nphantom,full_unet,70,dice,95.0,test\n")
    refs = load_references(path)
    assert reference_for(refs, "phantom", "advmim", "S", 2, "dice", "Made-up test source, Table 9") == 91.5
    assert reference_for(refs, "phantom", "advmim", "C", 2, "dice", "test") == 80.0
    assert reference_for(refs, "phantom", "advmim", "C", 2, "dice", "Made-up test source, Table 9") is None
    assert reference_for(refs, "phantom", "advmim", "S", 3, "dice", "Made-up test source, Table 9") is None
    assert reference_for(refs, "phantom", "full_unet", "C", 2, "dice", "test") == 95.0  # all labels
    assert sources(refs, "phantom") == [("Made-up test source, Table 9", ""), ("test", "")]
    path.write_text(HEADER + "phantom,advmim,2,dice,91.5,test\nphantom,advmim,2,dice,90.0,test\n")
    with pytest.raises(ConfigError, match="given twice by the same source"):
        load_references(path)


def test_table_command_writes_all_formats(tmp_path, capsys):
    files = study(tmp_path / "m", seeds=(0, 1), n_cases=12)
    refs = tmp_path / "refs.csv"
    refs.write_text(HEADER + "phantom,advmim,2,dice,91.5,Test source T1\n")
    out = tmp_path / "t" / "phantom.md"
    rc = main(["table", "--config-json", _config(["supervised_unet", "ctct", "advmim", "full_unet"]),
               "--metrics", *map(str, files), "--out", str(out), "--references", str(refs),
               "--stats-out", str(tmp_path / "t" / "stats.csv")])
    assert rc == 0
    md = out.read_text()
    ours = next(line for line in md.splitlines() if line.startswith("| AdvMIM (S)"))
    assert " a†" in ours and "| 91.50 |" in ours  # significant vs CTCT (S); published number beside ours
    assert "2 labeled: Dice (%) ↑ published \\[1\\]" in md and "\\[1\\] Test source T1" in md
    assert "Wilcoxon" in md and "2 labeled: HD95 (voxels) ↓" in md and "2 labeled: missed" in md
    assert md.count("| AdvMIM (S)") == 1 + 3  # class mean + per-class sections, no duplicate rows
    csv = pd.read_csv(out.with_suffix(".csv"))
    assert set(csv["n_seeds"]) == {2} and csv["dice_std"].notna().all() and set(csv["missed"]) == {0}
    tex = out.with_suffix(".tex").read_text()
    assert all(r in tex for r in (r"\toprule", r"\midrule", r"\bottomrule", r"a$^{\dagger}$"))
    html = out.with_suffix(".html").read_text()
    assert "<table" in html and "<pre" not in html and "a†</sup>" in html
    stats = pd.read_csv(tmp_path / "t" / "stats.csv")
    assert set(stats["unit"].dropna()) == {"patient", "seed"} and set(stats["entry"]) == {"a", "b", "c", "d"}
    assert stats["note"].str.startswith("not tested: ").sum() == 2  # CTCT (S), AdvMIM (S): no Swin lower bound
    printed = capsys.readouterr().out
    assert "AdvMIM (S)" in printed and "┃" in printed  # a rich table, not rendered Markdown


def _table(names, mode="paper", missed=(0, 0)):
    """A two-row table made by hand: the second row is best; ``missed`` per row."""
    from advmim.report.metric_defs import METRICS
    from advmim.report.model import Cell, Column, Row, Table

    dice, hd95 = METRICS["dice"], METRICS["hd95"]
    columns = [Column(2, "ours", dice), Column(2, "ours", hd95), Column(2, "missed")]
    rows = [Row(name, "semi", [Cell(50.0 + 10 * i, 1.0, 2, best=i == 1), Cell(5.0 - i, 0.1, 2, best=i == 1),
                               Cell(missed[i], digits=0)]) for i, name in enumerate(names)]
    return Table("T_1", "mean", mode, columns, rows, footnote="note: 50% ± 1")


def test_latex_bold_best_and_escaping():
    from advmim.report.latex import latex_table

    tex = latex_table(_table(["plain", "a_b & c%"]))
    assert r"a\_b \& c\%" in tex and r"\caption{T\_1}" in tex
    assert r"\textbf{60.00 $\pm$ 1.00}" in tex and r"\textbf{50.00" not in tex
    assert r"50\% $\pm$ 1" in tex and r"HD95 (voxels) $\downarrow$" in tex
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
    assert latex_escape("#$~^\\") == r"\#\$\textasciitilde{}\textasciicircum{}\textbackslash{}"


def test_rich_table_is_a_table():
    from rich.console import Console
    from rich.table import Table

    from advmim.report.terminal import print_table, rich_table

    table = _table(["U-Net [x]", "Best"])
    assert isinstance(rich_table(table), Table)
    console = Console(record=True, width=120, force_terminal=False)
    print_table(table, console=console)
    text = console.export_text()
    assert "U-Net [x]" in text and "60.00 ± 1.00" in text and "note: 50% ± 1" in text


def test_two_sources_get_their_own_columns_in_every_format_and_are_never_averaged(tmp_path):
    files = study(tmp_path / "m")
    refs = tmp_path / "refs.csv"
    refs.write_text(HEADER.rstrip("\n") + ",protocol\n"
                    "phantom,supervised_unet,2,dice,41.5,repo/A@x:README.md,best epoch on val+test\n"
                    "phantom,supervised_unet,2,dice,47.83,repo/B@y:README.md,best checkpoint on test\n"
                    "phantom,supervised_unet,2,hd95,31.16,repo/B@y:README.md,best checkpoint on test\n"
                    "phantom,full_unet,70,dice,91.44,repo/B@y:README.md,best checkpoint on test\n")
    out = tmp_path / "t" / "phantom.md"
    assert main(["table", "--config-json", _config(["supervised_unet", "ctct", "advmim", "full_unet"]),
                 "--metrics", *map(str, files), "--out", str(out), "--references", str(refs), "--quiet"]) == 0
    md = out.read_text()
    header = md.splitlines()[2]
    assert header.split(" | ")[1:] == ["2 labeled: Dice (%) ↑ ours", "2 labeled: Dice (%) ↑ published \\[1\\]",
                                       "2 labeled: Dice (%) ↑ published \\[2\\]", "2 labeled: HD95 (voxels) ↓ ours",
                                       "2 labeled: HD95 (voxels) ↓ published \\[2\\]", "2 labeled: missed |"]
    unet = next(line for line in md.splitlines() if line.startswith("| U-Net (labeled only)"))
    assert unet.split(" | ")[2:4] == ["41.50", "47.83"] and unet.endswith("| 31.16 | 0 |")
    assert "44.67" not in md  # (41.5 + 47.83) / 2: never averaged
    full = next(line for line in md.splitlines() if line.startswith("| U-Net (all labels)"))
    assert full.split(" | ")[2:4] == ["–", "91.44"]  # all-label rows match any labeled count
    assert ("\\[1\\] repo/A@x:README.md (best epoch on val+test); \\[2\\] repo/B@y:README.md (best checkpoint"
            in md)
    csv = pd.read_csv(out.with_suffix(".csv"))
    mean = csv[(csv["class"] == "mean") & (csv["method"] == "supervised_unet")].iloc[0]
    assert (mean["published_1_dice"], mean["published_2_dice"], mean["published_2_hd95"]) == (41.5, 47.83, 31.16)
    assert mean["published_2_source"] == "repo/B@y:README.md (best checkpoint on test)"
    tex = out.with_suffix(".tex").read_text()
    assert r"Dice (\%) $\uparrow$ published [1] & Dice (\%) $\uparrow$ published [2]" in tex
    assert "& 41.50 & 47.83 &" in tex
    html = out.with_suffix(".html").read_text()
    assert "HD95 (voxels) ↓ published [2]</th>" in html and "<td class=\"published\">47.83</td>" in html
    assert "31.16" in html
