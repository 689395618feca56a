"""The listeners of the local AWS: HTTP/1.1 keep-alive, concurrency, TLS, exact raw paths,
and a refused request whose body is never read as the next request."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crosstrack.local.errors import PortInUseError
from crosstrack.local.setup.tls import TlsFiles, generate
from crosstrack.local.transport.listener import Listener, listen

TEXT = ("Content-Type", "text/plain")


class Recorder:
    """A WSGI app: ``/refuse…`` answers 403 without reading the body; anything else echoes
    the body it read; ``/slow`` takes 0.3 s. Records what it saw."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            self.seen.append({k: v for k, v in environ.items() if isinstance(v, str)})
        path = environ["PATH_INFO"]
        if path.startswith("/refuse"):
            start_response("403 Forbidden", [TEXT, ("Content-Length", "3")])
            return [b"no\n"]
        if path == "/slow":
            time.sleep(0.3)
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):
            body = stream.read()
        else:
            body = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        out = b"ok " + body
        start_response("200 OK", [TEXT, ("Content-Length", str(len(out)))])
        return [out]

    def paths(self) -> list[str]:
        return [entry["PATH_INFO"] for entry in self.seen]


@pytest.fixture
def app() -> Recorder:
    return Recorder()


@pytest.fixture
def plain(app: Recorder) -> Iterator[Listener]:
    listener = listen(app, 0, tls=None, name="test-http")
    try:
        yield listener
    finally:
        listener.stop()


@pytest.fixture
def tls_files(tmp_path: Path) -> TlsFiles:
    return generate(tmp_path / "tls")


@pytest.fixture
def https(app: Recorder, tls_files: TlsFiles) -> Iterator[Listener]:
    listener = listen(app, 0, tls=tls_files, name="test-https")
    try:
        yield listener
    finally:
        listener.stop()


def _exchange(port: int, data: bytes, *, wait: float = 0.5) -> bytes:
    """Send raw bytes on one connection; return everything read until EOF or a quiet pause."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.settimeout(wait)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
SECOND = b"GET /second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_refused_body_with_content_length_is_not_read_as_the_next_request(
    app: Recorder, plain: Listener
) -> None:
    first = b"POST /refuse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(
        SMUGGLED
    )
    received = _exchange(plain.port, first + SMUGGLED + SECOND)
    assert app.paths() == ["/refuse", "/second"]
    assert received.count(b"HTTP/1.1 ") == 2
    assert b"HTTP/1.1 403" in received
    assert b"HTTP/1.1 200" in received


def test_refused_chunked_body_is_not_read_as_the_next_request(
    app: Recorder, plain: Listener
) -> None:
    # cheroot drains an unread Content-Length body, not an unread chunked one.
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED)
    first = b"POST /refuse HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    received = _exchange(plain.port, first + chunked + SECOND)
    assert app.paths() == ["/refuse", "/second"]
    assert b"HTTP/1.1 403" in received
    assert b"HTTP/1.1 200" in received
    assert b"400 Bad Request" not in received


def test_large_unread_body_closes_the_connection_instead_of_being_read(
    app: Recorder, plain: Listener
) -> None:
    # Announced 8 MiB, more than the server drains: only the start is sent, and it looks
    # like a request. The refusal closes the connection; the bytes never become a request.
    first = b"POST /refuse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % (8 << 20)
    received = _exchange(plain.port, first + SMUGGLED + SECOND, wait=3)
    assert app.paths() == ["/refuse"]
    assert received.startswith(b"HTTP/1.1 403")
    assert b"Connection: close" in received


def test_chunked_body_is_de_chunked_for_the_app(app: Recorder, plain: Listener) -> None:
    chunks = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    first = b"PUT /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    received = _exchange(plain.port, first + chunks + SECOND)
    assert b"ok hello world" in received
    assert app.paths() == ["/echo", "/second"]


def test_raw_path_and_query_reach_the_app_exactly_as_sent(app: Recorder, plain: Listener) -> None:
    target = b"/bucket/a%2Fb%20c+d/%E2%82%AC%25?prefix=x%2Fy+z&list-type=2"
    _exchange(plain.port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    (environ,) = app.seen
    assert environ["RAW_URI"] == target.decode("latin-1")
    assert environ["QUERY_STRING"] == "prefix=x%2Fy+z&list-type=2"
    # PATH_INFO is decoded as by every WSGI server (bytes as latin-1), %2F included.
    assert environ["PATH_INFO"] == "/bucket/a/b c+d/€%".encode().decode("latin-1")


def test_underscored_header_is_dropped_unless_s3_metadata(app: Recorder, plain: Listener) -> None:
    request = (
        b"GET /h HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"X-Amz-Date: 20250101T000000Z\r\nX_Amz_Date: 19990101T000000Z\r\n"
        b"X-Amz-Meta-My_Key: kept\r\nX-Amz-Meta-Other-Key: dashed\r\n"
        b"X-Amz-Meta-Other_Key: underscored\r\n\r\n"
    )
    _exchange(plain.port, request)
    (environ,) = app.seen
    assert environ["HTTP_X_AMZ_DATE"] == "20250101T000000Z"
    assert environ["HTTP_X_AMZ_META_MY_KEY"] == "kept"
    assert environ["HTTP_X_AMZ_META_OTHER_KEY"] == "dashed"


def test_https_keeps_the_connection_alive(https: Listener, tls_files: TlsFiles) -> None:
    context = ssl.create_default_context(cafile=str(tls_files.ca_cert))
    connection = http.client.HTTPSConnection("127.0.0.1", https.port, context=context, timeout=5)
    try:
        sockets = []
        for index in range(5):
            connection.request("PUT", f"/object/{index}", body=b"x" * 1024)
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Connection") != "close"
            assert response.read() == b"ok " + b"x" * 1024
            sockets.append(connection.sock)
        assert all(sock is sockets[0] for sock in sockets)
        assert isinstance(connection.sock, ssl.SSLSocket)
        assert connection.sock.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        connection.close()


def test_https_refuses_tls_before_1_2(https: Listener, tls_files: TlsFiles) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(tls_files.ca_cert))
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    with (
        socket.create_connection(("127.0.0.1", https.port), timeout=5) as raw,
        pytest.raises(ssl.SSLError),
    ):
        context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_plain_http_on_the_https_port_is_refused(https: Listener) -> None:
    received = _exchange(https.port, SECOND)
    assert b"/second" not in received
    assert received == b"" or b"400" in received.split(b"\r\n", 1)[0]


def test_concurrent_clients_are_served_in_parallel(app: Recorder, plain: Listener) -> None:
    clients = 12  # Terraform's default parallelism is 10, plus the Lambda runner
    statuses: list[int] = []

    def call() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", plain.port, timeout=10)
        connection.request("GET", "/slow")
        statuses.append(connection.getresponse().status)
        connection.close()

    threads = [threading.Thread(target=call) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert statuses == [200] * clients
    assert elapsed < clients * 0.3 / 3, f"{clients} requests of 0.3 s took {elapsed:.2f} s"


def test_busy_port_is_a_clear_error(app: Recorder) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port} on 127.0.0.1 is already in use"):
            listen(app, port, tls=None, name="busy")


def test_stop_frees_the_port_and_ends_the_threads(app: Recorder) -> None:
    before = threading.active_count()
    listener = listen(app, 0, tls=None, name="stopping")
    port = listener.port
    assert b"200 OK" in _exchange(port, SECOND)
    listener.stop()
    assert not listener.thread.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before
