"""Plain progress lines off a terminal (what Snakemake's log files hold): at least every 10 %
with the amount done, the rate and the time left, from download, convert, prepare and pretrain."""

from __future__ import annotations

import re

import pytest

from advmim.cli import main
from advmim.download import download
from tests.http_server import FakeServer
from tests.test_download import acdc_zip_bytes, sha

LINE = re.compile(r"^(?P<what>[\w .-]+): +(?P<pct>\d+)% (?P<amount>.+), (?P<rate>\S+ \S+/s), ETA \d+:\d\d:\d\d")


def progress_lines(text: str, what: str) -> list[re.Match]:
    lines = [m for m in map(LINE.match, text.splitlines()) if m and m["what"] == what]
    assert lines, f"no progress line for {what!r} in:\n{text}"
    percents = [int(m["pct"]) for m in lines]
    assert percents == sorted(set(percents)) and percents[-1] == 100, percents
    return lines


def test_download_prints_a_line_at_least_every_tenth(tmp_path, capsys):
    payload = acdc_zip_bytes(patients=range(1, 9))  # ~120 kB in 4 kB chunks
    with FakeServer({"/acdc.zip": payload}) as srv:
        download(srv.url("/acdc.zip"), tmp_path / "acdc.zip", sha(payload), chunk_size=4096,
                 progress=True, retries=0, timeout=5)  # fmt: skip
    lines = progress_lines(capsys.readouterr().err, "download acdc.zip")
    percents = [0] + [int(m["pct"]) for m in lines]
    assert max(b - a for a, b in zip(percents, percents[1:], strict=False)) <= 10 + 4096 * 100 / len(payload)
    assert len(lines) >= 10 and all(m["rate"].endswith("B/s") for m in lines)
    assert lines[-1]["amount"].endswith(f"/ {len(payload) / 1000:.1f} kB")


def test_download_command_and_extraction_show_progress(tmp_path, capsys):
    payload = acdc_zip_bytes()
    with FakeServer({"/acdc.zip": payload}) as srv:
        assert main(["download", "acdc", "--out", str(tmp_path), "--url", srv.url("/acdc.zip"),
                     "--sha256", sha(payload)]) == 0  # fmt: skip
    err = capsys.readouterr().err
    progress_lines(err, "download acdc.zip")
    progress_lines(err, "extract acdc.zip")


@pytest.mark.parametrize("no_progress", [False, True])
def test_no_progress_prints_nothing(tmp_path, capsys, no_progress):
    payload = acdc_zip_bytes()
    with FakeServer({"/acdc.zip": payload}) as srv:
        main(["download", "acdc", "--out", str(tmp_path), "--url", srv.url("/acdc.zip"),
              *(["--no-progress"] if no_progress else [])])  # fmt: skip
    assert ("%" in capsys.readouterr().err) is not no_progress


def test_convert_and_prepare_count_patients_and_files(phantom_raw, phantom_data, tmp_path, capsys):
    assert main(["convert", "phantom", "--raw", str(phantom_raw), "--out", str(tmp_path / "d"),
                 "--val", "1", "--test", "1", "--labeled", "1"]) == 0  # fmt: skip
    lines = progress_lines(capsys.readouterr().err, "convert phantom")
    assert lines[-1]["amount"] == "6/6 patients" and "patients/s" in lines[-1]["rate"]
    from advmim.data.ssl4mis import validate_folder

    validate_folder(phantom_data, 4)
    lines = progress_lines(capsys.readouterr().err, f"check {phantom_data.name}")
    assert lines[-1]["amount"].endswith(" files")


def test_pretrain_shows_iterations_with_the_loss(phantom_data, tmp_path, capsys):
    from advmim.train.pretrain import pretrain_mim
    from tests.test_pretrain_mim import settings

    pretrain_mim(settings(10), phantom_data, tmp_path / "mim.pt", progress=True)
    lines = progress_lines(capsys.readouterr().err, "pretrain mim")
    assert len(lines) == 10 and lines[-1]["amount"] == "10/10 it"
    assert re.search(r"loss \d+\.\d{4} lr", lines[-1].string)


def test_a_terminal_gets_the_rich_bar_not_lines():
    import os

    from advmim.progress import Progress

    leader, follower = os.openpty()
    with open(follower, "w") as tty, Progress("download x", 100, unit="B", stream=tty) as bar:
        for _ in range(10):
            bar.update(advance=10)
    shown = os.read(leader, 65536).decode(errors="replace")
    os.close(leader)
    assert "download x" in shown and "\x1b[" in shown and "ETA" not in shown  # no plain line
