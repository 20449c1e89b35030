"""Resumable, checksummed HTTP downloads (datasets and pretrained weights use the same code).

``download`` streams into ``<dest>.part``, resumes it with an HTTP Range request, verifies the
SHA-256 and only then renames it to ``dest``: a half-written ``dest`` never exists.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from advmim.errors import AdvmimError, ConfigError, InputError
from advmim.progress import Progress

CHUNK_SIZE = 1 << 20
_USER_AGENT = "advmim-downloader/1"
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class OfflineError(AdvmimError):
    """The server could not be reached at all (no network, DNS failure, refused connection)."""


class _Retry(Exception):
    """A transient failure: the next attempt resumes from what the .part already holds."""


def sha256_file(path: str | Path, chunk_size: int = CHUNK_SIZE) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_size):
            h.update(block)
    return h.hexdigest()


def normalise_sha(sha256: str | None) -> str | None:
    """A pinned SHA-256 in lower case (None stays None); anything but 64 hex digits is refused."""
    if sha256 is None:
        return None
    value = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ConfigError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    return value


class _Part:
    """The ``.part`` file with a running hash of its content (so resuming never re-reads it)."""

    def __init__(self, path: Path, chunk_size: int):
        self.path = path
        self.hash = hashlib.sha256()
        self.size = 0
        if path.exists():
            with open(path, "rb") as fh:
                while block := fh.read(chunk_size):
                    self.hash.update(block)
                    self.size += len(block)

    def truncate(self) -> None:
        self.path.write_bytes(b"")
        self.hash, self.size = hashlib.sha256(), 0


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(start, total) of a ``Content-Range: bytes a-b/total`` (or ``*/total``) header."""
    m = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", value or "")
    if not m:
        return None, None
    start = int(m.group(1)) if m.group(1) else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return start, total


def _unreachable(reason: object) -> bool:
    """True if a connection error means the host cannot be reached at all."""
    if isinstance(reason, socket.gaierror | ConnectionRefusedError | TimeoutError):
        return True
    return isinstance(reason, OSError) and reason.errno in {errno.ENETUNREACH, errno.EHOSTUNREACH}


def _attempt(url: str, part: _Part, timeout: float, chunk_size: int, bar) -> None:
    """One request: append the rest of the body to ``part``; raise ``_Retry`` if cut short."""
    headers = {"User-Agent": _USER_AGENT}
    if part.size:
        headers["Range"] = f"bytes={part.size}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        with exc:
            if exc.code == 416 and part.size:
                _, total = _content_range(exc.headers.get("Content-Range"))
                if total is None or total == part.size:
                    return  # the .part already holds the whole file: verify it
                part.truncate()
                raise _Retry(f".part larger than the remote file ({total} bytes)") from exc
            if exc.code in _RETRY_STATUS:
                raise _Retry(f"HTTP {exc.code} {exc.reason}") from exc
            raise AdvmimError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        if _unreachable(exc.reason):
            raise OfflineError(str(exc.reason)) from exc
        raise _Retry(f"no response ({exc.reason})") from exc
    except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from exc

    with resp:
        expected = resp.headers.get("Content-Length")
        expected = int(expected) if expected and expected.isdigit() else None
        if resp.status == 206:
            start, total = _content_range(resp.headers.get("Content-Range"))
            if start != part.size:
                part.truncate()
                raise _Retry(f"server resumed at byte {start}, not {part.size}")
        else:  # 200: the server ignored Range (or there was none): start from zero
            part.truncate()
            total = expected
        bar.update(total=total, completed=part.size)
        got = 0
        with open(part.path, "ab") as fh:
            try:
                while block := resp.read(chunk_size):
                    fh.write(block)
                    part.hash.update(block)
                    part.size += len(block)
                    got += len(block)
                    bar.update(advance=len(block))
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                raise _Retry(f"connection lost after {part.size} bytes ({exc!r})") from exc
            finally:
                fh.flush()
                os.fsync(fh.fileno())
        if expected is not None and got < expected:
            raise _Retry(f"connection dropped after {part.size} bytes")


def download(
    url: str,
    dest: str | Path,
    sha256: str | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    retries: int = 3,
    timeout: float = 30,
    progress: bool = True,
    backoff: float = 1.0,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``<dest>.part`` and verifying ``sha256``.

    An existing ``dest`` with the right hash is kept untouched (no request is made); one with a
    wrong hash is an error, never silently overwritten. A dropped connection is retried up to
    ``retries`` times (Range request, backoff doubling from ``backoff`` seconds). When ``sha256``
    is None the computed hash is printed so it can be pinned in the config.
    """
    dest = Path(dest)
    sha256 = normalise_sha(sha256)
    if dest.exists():
        if sha256 is None:
            return dest
        actual = sha256_file(dest, chunk_size)
        if actual != sha256:
            raise InputError(
                dest,
                f"already exists but its SHA-256 is {actual}, expected {sha256}; "
                "delete it to download again",
            )
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _Part(dest.with_suffix(dest.suffix + ".part"), chunk_size)
    host = urllib.parse.urlsplit(url).hostname or url
    with Progress(f"download {dest.name}", unit="B", completed=part.size, enabled=progress) as bar:
        for attempt in range(retries + 1):
            try:
                _attempt(url, part, timeout, chunk_size, bar)
                break
            except OfflineError as exc:
                if attempt == retries:
                    raise OfflineError(
                        f"cannot reach {host}: are you offline? ({exc}). The file can also be "
                        f"downloaded by hand from {url}"
                    ) from exc
            except _Retry as exc:
                if attempt == retries:
                    raise AdvmimError(
                        f"download of {url} failed after {retries + 1} attempts ({exc}); run the "
                        f"command again to resume from {part.path} ({part.size} bytes kept)"
                    ) from exc
            time.sleep(backoff * 2**attempt)
    actual = part.hash.hexdigest()
    if sha256 is not None and actual != sha256:
        part.path.unlink(missing_ok=True)
        raise InputError(
            dest,
            f"downloaded data has SHA-256 {actual}, expected {sha256}; the partial file was "
            "deleted (check the URL and the pinned checksum, then try again)",
        )
    if sha256 is None:
        print(
            f"SHA-256 of {dest.name}: {actual}\n"
            "  not verified: pin it in the config (sha256) to check future downloads",
            file=sys.stderr,
        )
    os.replace(part.path, dest)
    return dest
