"""Fixtures for the reporter's unit tests: recorded payloads and a local HTTP server.

The server stands in for open-notify, wheretheiss.at and CelesTrak: stdlib http.server in a
thread, bound to 127.0.0.1 on a free port, stopped (and any slow answer released) when the
test ends; ``https_server`` is the same over TLS, with a throw-away CA the process trusts
for the test. Tests never touch the network.
"""

from __future__ import annotations

import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

PAYLOADS = Path(__file__).resolve().parents[2] / "data" / "payloads"


@dataclass
class Route:
    """What the server answers on one path (see :meth:`LocalServer.serve`)."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0  # seconds to wait before answering (to trip client timeouts)
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0  # if set, send the whole answer one byte per ``drip`` seconds


class LocalServer:
    """A tiny scripted HTTP server (HTTPS with ``tls``); ``hits`` counts requests per path."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                server.hits[path] += 1
                route = server.routes.get(path, Route(b'{"error":"no route"}', status=404))
                if route.delay:
                    # Waits on an event rather than sleeping, so teardown can release it.
                    server.released.wait(route.delay)
                try:
                    if route.drip:
                        self._drip(route)
                        return
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    self.send_header("Content-Length", str(len(route.body)))
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test): nothing to answer

            def _drip(self, route: Route) -> None:
                # Status line, headers and body alike, one byte at a time: each socket read
                # of the client gets a byte well within any per-read timeout.
                head = (
                    f"HTTP/1.1 {route.status} OK\r\nContent-Type: {route.content_type}\r\n"
                    f"Content-Length: {len(route.body)}\r\nConnection: close\r\n\r\n"
                ).encode()
                for byte in head + route.body:
                    if server.released.wait(route.drip):
                        return  # teardown
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._scheme = "http" if tls is None else "https"
        # A short poll interval makes shutdown() return quickly at teardown.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}{path}"

    def serve(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        content_type: str = "application/json",
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        drip: float = 0.0,
    ) -> str:
        """Answer ``body`` with ``status`` on ``path`` from now on (after ``delay`` seconds,
        or one byte per ``drip`` seconds, to trip client timeouts); return the URL."""
        self.routes[path] = Route(body, status, content_type, delay, dict(headers or {}), drip)
        return self.url(path)


@pytest.fixture
def payloads() -> Path:
    """The directory of recorded payloads (tests/data/payloads)."""
    return PAYLOADS


def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib honours *_proxy variables; a developer's proxy must not intercept 127.0.0.1.
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)


def _serving(server: LocalServer) -> Iterator[LocalServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    _no_proxies(monkeypatch)
    yield from _serving(LocalServer())


@pytest.fixture
def https_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LocalServer]:
    """The local server over HTTPS; the default SSL context trusts its CA for the test."""
    from crosstrack.local.setup.tls import generate  # test-only: the reporter never imports it

    _no_proxies(monkeypatch)
    files = generate(tmp_path / "tls")
    # OpenSSL reads SSL_CERT_FILE whenever a default context loads its verify paths.
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca_cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.server_cert, files.server_key)
    yield from _serving(LocalServer(tls=context))
