"""HTTP/1.1 framing a client could use to desynchronise a keep-alive connection.

RFC 9112 §6.3: a request with both ``Transfer-Encoding`` and ``Content-Length`` "ought to be
handled as an error", and the server MUST close the connection after answering it; repeated
``Content-Length`` values that differ are an unrecoverable error. cheroot took the chunked
framing and kept the connection: the bytes after ``0\\r\\n\\r\\n`` were served as a second
request the first one's framing had hidden. With two ``Content-Length`` it took the last and
waited for bytes that never came. The header section is also capped (cheroot has no limit).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from crosstrack.local import LocalAWS


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with LocalAWS(tmp_path_factory.mktemp("framing")) as aws:
        yield int(aws.http_endpoint.rsplit(":", 1)[1])


def _exchange(port: int, data: bytes) -> bytes:
    """Everything the server sends until it closes the connection (or 5 s pass)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            received += b"<still open>"
        return received


def _statuses(received: bytes) -> list[bytes]:
    # A response body need not end with CRLF: the next status line may follow it directly.
    return re.findall(rb"HTTP/1\.1 \d{3}[^\r]*", received)


def _start(port: int, request_line: str) -> bytes:
    """``request_line`` and the Host field: how every request below begins."""
    return f"{request_line}\r\nHost: 127.0.0.1:{port}\r\n".encode()


def test_content_length_with_transfer_encoding_is_refused_and_closed(port: int) -> None:
    smuggled = _start(port, "GET /moto-api/data.json HTTP/1.1") + b"\r\n"
    received = _exchange(
        port,
        _start(port, "POST / HTTP/1.1")
        + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        + smuggled,
    )
    assert _statuses(received) == [b"HTTP/1.1 400 Bad Request"], received
    assert not received.endswith(b"<still open>")


def test_differing_content_lengths_are_refused_at_once(port: int) -> None:
    received = _exchange(
        port, _start(port, "POST / HTTP/1.1") + b"Content-Length: 0\r\nContent-Length: 30\r\n\r\n"
    )
    assert _statuses(received) == [b"HTTP/1.1 400 Bad Request"], received
    assert not received.endswith(b"<still open>")


def test_an_oversized_header_section_is_refused(port: int) -> None:
    received = _exchange(
        port, _start(port, "GET / HTTP/1.1") + b"X-Big: " + b"a" * (200 * 1024) + b"\r\n\r\n"
    )
    assert _statuses(received) == [b"HTTP/1.1 413 Request Entity Too Large"], received[:200]


def test_pipelined_requests_are_still_answered_in_order(port: int) -> None:
    one = _start(port, "GET / HTTP/1.1") + b"\r\n"
    last = _start(port, "GET / HTTP/1.1") + b"Connection: close\r\n\r\n"
    received = _exchange(port, one + one + last)
    # Unsigned: S3's AccessDenied, three times, on one connection.
    assert len(_statuses(received)) == 3, received
    assert not received.endswith(b"<still open>")
