"""Atomic file writes: a reader never sees a half-written file, a crash leaves the old one intact.

Also the checks every command makes on its outputs before computing anything
(:func:`check_outputs`) and staged output folders (:func:`staged_dir`). Temporaries are hidden
siblings named ``.<name>.<pid>@<host>.<random>.tmp``; those of dead processes on this host are
swept when a later command first writes into the same folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from advmim.errors import InputError, OutputError

_HOST = socket.gethostname().split(".")[0] or "host"
# Write failures that are about the output location, not the data.
_WRITE_ERRORS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
}
MARKER = ".advmim-output"
_SWEPT: set[Path] = set()  # folders already swept by this process


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _tmp_prefix(name: str) -> str:
    return f".{name}.{os.getpid()}@{_HOST}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _owner(entry_name: str) -> tuple[int, str] | None:
    """(pid, host) of a temporary named ``.<name>.<pid>@<host>.<random>.tmp``, else None."""
    if not (entry_name.startswith(".") and entry_name.endswith(".tmp")):
        return None
    for part in entry_name.split(".")[2:-1]:
        pid, at, host = part.partition("@")
        if at and pid.isdigit():
            return int(pid), host
    return None


def sweep_stale(folder: Path) -> None:
    """Remove the temporaries in ``folder`` left by processes of this host that are gone."""
    _SWEPT.add(Path(folder))
    with contextlib.suppress(OSError):
        for entry in Path(folder).iterdir():
            owner = _owner(entry.name)
            if owner and owner[1] == _HOST and owner[0] != os.getpid() and not _alive(owner[0]):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


def make_stage(folder: str | Path, name: str) -> Path:
    """A new hidden temporary folder for ``folder/name`` (stale ones of dead processes swept)."""
    folder = Path(folder)
    sweep_stale(folder)
    stage = Path(tempfile.mkdtemp(prefix=_tmp_prefix(name), suffix=".tmp", dir=folder))
    os.chmod(stage, 0o777 & ~_umask())
    return stage


def _write_error(path: str | Path, exc: OSError) -> OutputError | None:
    """The OutputError for a write failure about the location (disk full, read-only), else None."""
    problem = _WRITE_ERRORS.get(exc.errno)
    return None if problem is None else OutputError(path, problem)


@contextlib.contextmanager
def _location_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        error = _write_error(path, exc)
        if error is None:
            raise
        raise error from exc


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only if the block succeeds."""
    path = Path(path)
    with _location_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent not in _SWEPT:
            sweep_stale(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(path.name), suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        with _location_errors(path):
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; finished files: normal
            yield tmp_path
            with open(tmp_path, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file for writing that replaces ``path`` atomically on success."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_text(path: str | Path, text: str) -> None:
    """Atomically write ``text`` to ``path``."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_json(path: str | Path, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path) -> Any:
    """Read JSON, naming the file in the error if it is missing or malformed."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(path, "file not found") from exc
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc


def write_bytes(path: str | Path, data: bytes) -> None:
    """Atomically write ``data`` to ``path``."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


# ------------------------------------------------------------------- checks before computing


def _same(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _inside(child: Path, folder: Path) -> bool:
    return child.resolve().is_relative_to(folder.resolve())


def check_writable(path: str | Path) -> None:
    """Raise OutputError unless a file can be created where ``path`` is to be written."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(path, f"cannot write here: {folder} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=_tmp_prefix("write-check"), suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(path, f"cannot write here: {folder} is not writable "
                                f"({exc.strerror or exc})") from exc
    os.close(fd)
    os.unlink(probe)


def check_outputs(files: Iterable[str | Path | None] = (),
                  folders: Iterable[str | Path | None] = (),
                  inputs: Iterable[str | Path | None] = (),
                  whole: bool = False) -> None:
    """Before any work: every output can be written and none is (or holds) one of the inputs.

    ``files`` are output files (an existing folder there is refused), ``folders`` output folders
    (an existing file there is refused); ``inputs`` are the command's input files and folders.
    An output file may not be an input nor lie inside an input folder where a file already is;
    an output folder may not be an input, nor contain one when it is replaced ``whole``.
    """
    inputs = [Path(p) for p in inputs if p is not None]
    for out, is_file in [(Path(p), True) for p in files if p is not None] + [
            (Path(p), False) for p in folders if p is not None]:
        for inp in inputs:
            if _same(out, inp):
                raise OutputError(out, "is also an input of this command; refusing to "
                                       "overwrite it (choose another output path)")
            if inp.exists() and out.exists() and inp.is_dir() and is_file and _inside(out, inp):
                raise OutputError(out, f"lies inside the input folder {inp}; refusing to "
                                       "overwrite it (choose another output path)")
            if whole and not is_file and inp.exists() and _inside(inp, out):
                raise OutputError(out, f"holds the input {inp}; refusing to write over it "
                                       "(choose another output folder)")
        if is_file and out.is_dir():
            raise OutputError(out, "is a folder; give the path of the file to write")
        if not is_file and out.exists() and not out.is_dir():
            raise OutputError(out, "exists and is not a folder")
        check_writable(out)


def check_names(folder: str | Path) -> None:
    """Refuse entries of ``folder`` whose names are not valid UTF-8 (else skipped silently)."""
    folder = Path(folder)
    for entry in folder.iterdir():
        try:
            entry.name.encode("utf-8")
        except UnicodeEncodeError:
            raw = os.fsencode(entry.name)
            raise InputError(folder / raw.decode("utf-8", "replace"),
                             f"name {raw!r} is not valid UTF-8; rename it") from None


def _claim(path: Path, command: str, overwrite: bool) -> None:
    if not path.exists():
        return
    if not path.is_dir():
        raise OutputError(path, "exists and is not a folder")
    marker = path / MARKER
    if overwrite or not any(path.iterdir()):
        return
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == command:
        return
    raise OutputError(path, f"folder is not empty and was not written by `advmim {command}`; "
                            "refusing to write into it (choose an empty folder, or pass "
                            "--overwrite to replace it whole)")


@contextlib.contextmanager
def staged_dir(path: str | Path, command: str, overwrite: bool = False) -> Iterator[Path]:
    """Build folder ``path`` in a hidden sibling that replaces it whole only if the block succeeds.

    A non-empty ``path`` that ``command`` did not write (no marker file naming it) is refused
    unless ``overwrite``. On failure or interruption the sibling is removed and ``path`` is
    left as it was.
    """
    path = Path(path)
    _claim(path, command, overwrite)
    check_writable(path)
    with _location_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        stage = make_stage(path.parent, path.name)
    old = stage.with_name(stage.name.removesuffix(".tmp") + "-old.tmp")
    try:
        with _location_errors(path):
            try:
                yield stage
            except OutputError as exc:  # name the final folder, not the hidden stage
                if not exc.path.is_relative_to(stage):
                    raise
                raise OutputError(path, f"{exc.problem} (writing {exc.path.relative_to(stage)})") from exc
            (stage / MARKER).write_text(f"{command}\n", encoding="utf-8")
            if path.exists():
                os.replace(path, old)
                try:
                    os.replace(stage, path)
                except BaseException:
                    os.replace(old, path)
                    raise
            else:
                os.replace(stage, path)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
