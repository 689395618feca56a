"""http_get over plain HTTP and over verified HTTPS: answers, refusals, and the total bound.

open-notify is plain HTTP; wheretheiss.at and CelesTrak are HTTPS, so both schemes must go
through the connections whose sockets the timeout shuts down.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from crosstrack.reporter.fetch import FetchError, http_get

SCHEMES = ["http_server", "https_server"]


@pytest.fixture(params=SCHEMES)
def server(request: pytest.FixtureRequest) -> Any:
    """The local server (conftest.LocalServer) over plain HTTP, then over HTTPS."""
    return request.getfixturevalue(request.param)


def test_a_200_answer_is_returned(server: Any) -> None:
    url = server.serve("/now", b'{"ok": true}')
    assert http_get(url, timeout=5, accept="application/json") == b'{"ok": true}'


def test_another_status_is_a_fetch_error_carrying_it(server: Any) -> None:
    url = server.serve("/busy", b"try later", status=503)
    with pytest.raises(FetchError, match=r"^HTTP 503$") as caught:
        http_get(url, timeout=5, accept="application/json")
    assert caught.value.status == 503


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "crosstrack-http"]


def test_a_dripping_answer_ends_at_the_timeout_and_frees_its_worker(
    server: Any,
) -> None:
    # One byte every 0.3 s never trips a per-read timeout. The caller stops waiting at the
    # total bound; shutting the request's sockets down must also end the worker's read,
    # or every such request would leave a thread reading for minutes.
    url = server.serve("/drip", b'{"latitude": 1.0}' * 4, drip=0.3)
    assert _workers() == []
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"^timed out after 1 s \(no complete answer from "):
        http_get(url, timeout=1.0, accept="application/json")
    assert time.monotonic() - started < 1.5
    for worker in _workers():
        worker.join(timeout=1.0)
    assert _workers() == []


def test_https_verifies_the_server_certificate(
    https_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = https_server.serve("/now", b"{}")
    monkeypatch.delenv("SSL_CERT_FILE")  # the system CAs do not know the test CA
    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
        http_get(url, timeout=5, accept="application/json")
