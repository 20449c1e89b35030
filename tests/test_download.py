"""Resumable download, checksum, safe zip extraction and ``advmim download`` (local server only)."""

from __future__ import annotations

import hashlib
import io
import random
import time
import zipfile
from pathlib import Path

import pytest

from advmim.cli import main
from advmim.data.acdc_download import extract_zip, fetch_acdc
from advmim.download import download
from advmim.errors import AdvmimError, ConfigError, InputError
from tests.http_server import FakeServer, closed_port_url

FAST = {"progress": False, "retries": 2, "timeout": 5, "backoff": 0.01, "chunk_size": 4096}


def acdc_zip_bytes(prefix: str = "ACDC/database/", patients=(1, 2, 3), extra=None) -> bytes:
    """A tiny zip in the official ACDC layout (fake image bytes, realistic names)."""
    rng = random.Random(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for p in patients:
            name = f"patient{p:03d}"
            folder = f"{prefix}training/{name}/"
            zf.writestr(
                folder + "Info.cfg",
                "ED: 1\nES: 12\nGroup: DCM\nHeight: 180\nNbFrame: 30\nWeight: 80\n",
            )
            for suffix in ("_4d", "_frame01", "_frame01_gt", "_frame12", "_frame12_gt"):
                zf.writestr(f"{folder}{name}{suffix}.nii.gz", rng.randbytes(3000))
        for member, data in (extra or {}).items():
            zf.writestr(member, data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def payload() -> bytes:
    return acdc_zip_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_full_download_verifies_and_extracts(tmp_path, payload):
    with FakeServer({"/acdc.zip": payload}) as srv:
        dest = download(srv.url("/acdc.zip"), tmp_path / "acdc.zip", sha(payload), **FAST)
    assert dest.read_bytes() == payload
    assert leftovers(tmp_path) == ["acdc.zip"]
    database = extract_zip(dest, tmp_path / "raw")
    assert database == tmp_path / "raw" / "database"
    assert sorted(p.name for p in (database / "training").iterdir()) == [
        "patient001",
        "patient002",
        "patient003",
    ]
    assert (database / "training/patient001/patient001_frame12_gt.nii.gz").is_file()
    assert leftovers(tmp_path / "raw") == ["database"]  # no staging folder left


def test_dropped_connection_resumes_with_range(tmp_path, payload):
    k = 10_000
    with FakeServer({"/a.zip": payload}, drop_after=k) as srv:
        dest = download(srv.url("/a.zip"), tmp_path / "a.zip", sha(payload), **FAST)
    assert dest.read_bytes() == payload
    assert "Range" not in srv.requests[0]["headers"]
    assert srv.requests[1]["headers"]["Range"] == f"bytes={k}-"
    assert not (tmp_path / "a.zip.part").exists()


def test_retries_exhausted_keep_part_for_a_later_resume(tmp_path, payload):
    url_path, k = "/a.zip", 5000
    failing = FakeServer({url_path: payload}, drop_after=k, drops=10)
    with failing as srv, pytest.raises(AdvmimError, match="run the command again to resume"):
        download(srv.url(url_path), tmp_path / "a.zip", sha(payload), **{**FAST, "retries": 1})
    assert (tmp_path / "a.zip.part").stat().st_size == 2 * k
    assert not (tmp_path / "a.zip").exists()
    with FakeServer({url_path: payload}) as srv:  # a later run picks the .part up
        download(srv.url(url_path), tmp_path / "a.zip", sha(payload), **FAST)
    assert srv.requests[0]["headers"]["Range"] == f"bytes={2 * k}-"
    assert (tmp_path / "a.zip").read_bytes() == payload


def test_server_ignoring_range_restarts_from_zero(tmp_path, payload):
    (tmp_path / "a.zip.part").write_bytes(b"garbage that must be discarded")
    with FakeServer({"/a.zip": payload}, ignore_range=True) as srv:
        dest = download(srv.url("/a.zip"), tmp_path / "a.zip", sha(payload), **FAST)
    assert srv.requests[0]["headers"]["Range"] == "bytes=30-"
    assert dest.read_bytes() == payload


def test_complete_part_and_416_is_verified_and_renamed(tmp_path, payload):
    (tmp_path / "a.zip.part").write_bytes(payload)
    with FakeServer({"/a.zip": payload}) as srv:
        dest = download(srv.url("/a.zip"), tmp_path / "a.zip", sha(payload), **FAST)
    assert len(srv.requests) == 1 and dest.read_bytes() == payload


def test_corrupted_content_raises_and_leaves_nothing(tmp_path, payload):
    with FakeServer({"/a.zip": payload}, corrupt=True) as srv, pytest.raises(InputError) as err:
        download(srv.url("/a.zip"), tmp_path / "a.zip", sha(payload), **FAST)
    assert "a.zip" in str(err.value) and sha(payload) in str(err.value)
    assert leftovers(tmp_path) == []


def test_no_pinned_hash_prints_it(tmp_path, payload, capsys):
    with FakeServer({"/a.zip": payload}) as srv:
        download(srv.url("/a.zip"), tmp_path / "a.zip", None, **FAST)
    assert sha(payload) in capsys.readouterr().err


def test_connection_refused_is_a_quick_offline_error(tmp_path):
    start = time.monotonic()
    with pytest.raises(AdvmimError, match=r"cannot reach 127\.0\.0\.1: are you offline\?"):
        download(closed_port_url(), tmp_path / "a.zip", None, **FAST)
    assert time.monotonic() - start < 5
    assert leftovers(tmp_path) == []


def test_offline_acdc_message_mentions_manual_zip(tmp_path):
    url = closed_port_url()
    with pytest.raises(AdvmimError) as err:
        fetch_acdc(tmp_path, url, None, progress=False, retries=0, timeout=2)
    assert url in str(err.value) and "--zip FILE" in str(err.value)


def test_http_404_is_a_clear_error(tmp_path, payload):
    with FakeServer({"/a.zip": payload}) as srv, pytest.raises(AdvmimError, match="HTTP 404"):
        download(srv.url("/missing.zip"), tmp_path / "a.zip", None, **FAST)
    assert len(srv.requests) == 1  # a 404 is not retried


def test_existing_dest_is_reused_or_refused(tmp_path, payload):
    (tmp_path / "a.zip").write_bytes(payload)
    with FakeServer({"/a.zip": payload}) as srv:
        download(srv.url("/a.zip"), tmp_path / "a.zip", sha(payload), **FAST)
        with pytest.raises(InputError, match="already exists"):
            download(srv.url("/a.zip"), tmp_path / "a.zip", "0" * 64, **FAST)
    assert srv.requests == []
    assert (tmp_path / "a.zip").read_bytes() == payload


def test_cli_download_acdc_end_to_end(tmp_path, payload, capsys):
    out = tmp_path / "raw"
    with FakeServer({"/dl": payload}) as srv:
        argv = [
            "download",
            "acdc",
            "--url",
            srv.url("/dl"),
            "--sha256",
            sha(payload),
            "--out",
            str(out),
            "--no-progress",
        ]
        assert main(argv) == 0
        assert main(argv) == 0  # already there: no new request
    assert len(srv.requests) == 1
    assert (out / "database/training/patient003/Info.cfg").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["acdc.zip", "database"]


def test_cli_local_zip_and_synapse(tmp_path, payload, capsys):
    zip_file = tmp_path / "manual.zip"
    zip_file.write_bytes(payload)
    assert main(["download", "acdc", "--zip", str(zip_file), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r/database/training/patient001").is_dir()
    assert main(["download", "synapse", "--out", str(tmp_path / "s")]) == 2
    assert "syn3193805" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        download("http://127.0.0.1:1/x", tmp_path / "x", "not-a-hash", progress=False)


def test_zip_with_path_traversal_is_rejected(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(acdc_zip_bytes(extra={"../evil.txt": b"x"}))
    with pytest.raises(InputError, match="unsafe member"):
        extract_zip(bad, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "out").exists()  # refused before anything is created


def test_truncated_zip_is_rejected_naming_the_file(tmp_path, payload):
    broken = tmp_path / "truncated.zip"
    broken.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(InputError, match="truncated.zip"):
        extract_zip(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_without_acdc_layout_explains_expected_layout(tmp_path):
    other = tmp_path / "other.zip"
    other.write_bytes(acdc_zip_bytes(prefix="data/", patients=()) or b"")
    with zipfile.ZipFile(other, "a") as zf:
        zf.writestr("images/case0001.nii.gz", b"x")
    with pytest.raises(InputError, match=r"database/training/patient001"):
        extract_zip(other, tmp_path / "out")
    assert leftovers(tmp_path / "out") == []


def test_flat_layout_is_normalised(tmp_path):
    flat = tmp_path / "flat.zip"
    flat.write_bytes(acdc_zip_bytes(prefix="", patients=(7,)))
    database = extract_zip(flat, tmp_path / "out")
    assert (database / "training/patient007/patient007_frame01.nii.gz").is_file()
