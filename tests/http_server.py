"""A small threaded HTTP server on 127.0.0.1 for tests (no network needed).

Serves bytes (``{"/path": b"..."}``) or a directory, with Range support (206 + Content-Range,
416), and switches to simulate faults: ``drop_after`` (close the connection after K body bytes,
for the first ``drops`` responses), ``ignore_range`` (always 200 with the full body) and
``corrupt`` (flip bytes of every body). Every request's path and headers are recorded. Use it as
a context manager; it stops at the end of the block.
"""

from __future__ import annotations

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FakeServer:
    """Threaded local HTTP server with fault switches; ``url(path)`` gives a served URL."""

    def __init__(
        self,
        content: dict[str, bytes] | Path,
        *,
        drop_after: int | None = None,
        drops: int = 1,
        ignore_range: bool = False,
        corrupt: bool = False,
        max_requests: int = 20,
    ):
        self.content = content
        self.drop_after = drop_after
        self.drops = drops
        self.ignore_range = ignore_range
        self.corrupt = corrupt
        self.max_requests = max_requests
        self.requests: list[dict] = []
        self.dropped = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str = "/") -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def body(self, path: str) -> bytes | None:
        if isinstance(self.content, dict):
            return self.content.get(path)
        file = (Path(self.content) / path.lstrip("/")).resolve()
        root = Path(self.content).resolve()
        return file.read_bytes() if file.is_file() and root in file.parents else None

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def closed_port_url(path: str = "/file.zip") -> str:
    """A URL on 127.0.0.1 whose port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 5

        def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
            pass

        def do_GET(self):
            with server._lock:
                server.requests.append({"path": self.path, "headers": dict(self.headers)})
                n = len(server.requests)
            if n > server.max_requests:
                return self.send_error(503, "too many requests in this test")
            body = server.body(self.path)
            if body is None:
                return self.send_error(404, "Not Found")
            if server.corrupt:
                body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
            start = 0
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if m and not server.ignore_range:
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else len(body) - 1
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    return self.end_headers()
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
                body = body[start : end + 1]
            else:
                self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            with server._lock:
                drop = server.drop_after is not None and server.dropped < server.drops
                server.dropped += drop
            if drop:
                self.wfile.write(body[: server.drop_after])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler
