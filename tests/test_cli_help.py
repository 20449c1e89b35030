"""Every sub-command's --help: each option has help text and shows its default; the config file
flag has one spelling (--configfile); a reader that leaves early gets no traceback."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from advmim.cli import HelpFormatter, build_parser, main


def _parsers(parser: argparse.ArgumentParser, path: str = "advmim"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


PARSERS = dict(_parsers(build_parser()))


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_every_option_has_help_and_shows_its_default(command, capsys):
    parser = PARSERS[command]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        assert action.help, f"{command} {action.option_strings or action.dest}: no help text"
        visible = [o for o in action.option_strings if "config" in o]
        assert visible in ([], ["--configfile"]), f"{command}: config flag spelled {visible}"
    with pytest.raises(SystemExit) as done:
        main([*command.split()[1:], "--help"])
    assert done.value.code == 0
    text = "".join(capsys.readouterr().out.split())  # no white space: wrapped lines join
    for action in parser._actions:
        shown = action.default not in (None, False, [], argparse.SUPPRESS)
        if action.option_strings and shown and action.help != argparse.SUPPRESS:
            help_text = HelpFormatter(command)._get_help_string(action) % {"default": action.default}
            assert "default" in help_text and "".join(help_text.split()) in text, (command, action.dest)


def test_convert_help_lists_every_dataset_with_its_options(capsys):
    from advmim.data.registry import dataset_names

    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    out = capsys.readouterr().out
    for name in dataset_names():
        assert f"advmim convert {name} [-h] --raw DIR --out DIR" in out


def test_old_config_spellings_still_work(tmp_path, capsys):
    for flag in ("--config", "--configfile"):
        args = build_parser().parse_args(["table", flag, "c.yaml", "--metrics", "m.json", "--out", "t.md"])
        assert [str(f) for f in args.configfile] == ["c.yaml"]
    assert build_parser().parse_args(["table", "--config-json", "{}", "--metrics", "m", "--out", "t"]).config_json == "{}"


def test_methods_names_its_networks():
    out = subprocess.run([sys.executable, "-m", "advmim", "methods"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"}, timeout=60).stdout
    row = next(line for line in out.splitlines() if line.startswith("│ advmim "))
    assert "Swin-UNet (S), U-Net (C)" in row and "S (S)" not in row


def test_closed_stdout_is_no_traceback(tmp_path):
    """`advmim metrics ... | head`: the reader is gone before advmim writes."""
    import h5py
    import numpy as np

    for name in ("pred.h5", "gt.h5"):
        with h5py.File(tmp_path / name, "w") as f:
            f["label"] = np.arange(2 * 8 * 8).reshape(2, 8, 8) % 4
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run([sys.executable, "-m", "advmim", "metrics", str(tmp_path / "pred.h5"),
                           str(tmp_path / "gt.h5")], stdout=write, stderr=subprocess.PIPE,
                          text=True, timeout=60)  # fmt: skip
    os.close(write)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == 141


def test_table_base_only_with_configfile(tmp_path, capsys):
    rc = main(["table", "--config-json", "{}", "--base", "config/config.yaml", "--metrics", "m.json",
               "--out", str(tmp_path / "t.md")])
    assert rc == 2 and "--base: only with --configfile" in capsys.readouterr().err
    assert not (tmp_path / "t.md").exists()


def test_figures_curves_need_runs(tmp_path, capsys):
    rc = main(["figures", "--metrics", "m.json", "--kind", "dice", "curves", "--out", str(tmp_path / "f")])
    assert rc == 2 and "--runs is needed for the curves figure(s)" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()
