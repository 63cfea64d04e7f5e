"""A loopback HTTP file server for fetch tests: 127.0.0.1 only, an ephemeral port, Range requests, faults.

Faults: ``drop_once`` paths send their headers and half the body, then close the connection, the
first time only; ``status`` paths answer with that HTTP status. Every request is logged (path and
Range header) so tests can check a download resumed. The server stops when the ``with`` block ends,
or by itself after ``lifetime_s`` whatever the test does.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FileServer:
    def __init__(self, files: dict[str, bytes] | None = None, lifetime_s: float = 60.0) -> None:
        self.files: dict[str, bytes] = dict(files or {})
        self.drop_once: set[str] = set()
        self.status: dict[str, int] = {}
        self.ignore_range = False  # answer 200 with the whole file, as servers without range support do
        self.log: list[tuple[str, str | None]] = []
        self._dropped: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._timer = threading.Timer(lifetime_s, self._server.shutdown)
        self._timer.daemon = True

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def ranges(self, path: str) -> list[str | None]:
        return [r for p, r in self.log if p == "/" + path.lstrip("/")]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                rng = self.headers.get("Range")
                with server._lock:
                    server.log.append((path, rng))
                key = path.lstrip("/")
                if key in server.status:
                    self._plain(server.status[key], b"injected fault\n")
                    return
                body = server.files.get(key)
                if body is None:
                    self._plain(404, b"not found\n")
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                start = 0
                if (rng and rng.startswith("bytes=") and self.headers.get("If-Range", etag) == etag
                        and not server.ignore_range):
                    start = int(rng[6:].split("-", 1)[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                chunk = body[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(chunk)))
                self.send_header("ETag", etag)
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                with server._lock:
                    drop = key in server.drop_once and key not in server._dropped
                    if drop:
                        server._dropped.add(key)
                if drop:
                    self.wfile.write(chunk[: len(chunk) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(chunk)

            def _plain(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
