"""HTTP GET bounded in *total* time and size, through :mod:`urllib.request`.

urllib's ``timeout`` bounds each socket operation, not the request: a server that sends one
byte every 0.4 s held a 1 s-timeout fetch for as long as it liked. Here the request runs in
a worker thread; the caller waits at most ``timeout`` seconds in all, then shuts down the
request's sockets (so the worker's blocked read returns at once) and reports the timeout.
A worker stuck where no socket exists yet (a DNS lookup) is left to finish on its own: it is
a daemon thread, holds nothing the caller needs and can no longer deliver a result.

The body is read up to :data:`MAX_BODY_BYTES`; anything larger is refused, unread.

Imports: the standard library and the reporter's errors (this module ships in the Lambda zip).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, Final

from crosstrack.reporter.errors import ReporterError

# The answers are a few hundred bytes (a TLE 170); refuse to read a runaway body.
MAX_BODY_BYTES: Final = 16 * 1024

USER_AGENT: Final = "crosstrack-reporter/0.1 (+cross-account ISS tracker; urllib)"


class FetchError(ReporterError):
    """The request failed; the message is the reason (without a source name).

    ``status`` is the HTTP status when the server answered with something other than 200.
    """

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class _Sockets:
    """The sockets one request opened, so they can be shut down from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self.closed = False

    def watch(self, create: Callable[..., socket.socket]) -> Callable[..., socket.socket]:
        """``create`` (``socket.create_connection``), its sockets watched."""

        def created(*args: Any, **kwargs: Any) -> socket.socket:
            return self.adopt(create(*args, **kwargs))

        return created

    def adopt(self, sock: socket.socket) -> socket.socket:
        """Watch ``sock``; if the time has run out already, close it and say so."""
        with self._lock:
            if self.closed:
                sock.close()
                raise TimeoutError("the request's time ran out while connecting")
            self._open.append(sock)
        return sock

    def shut_down(self) -> None:
        with self._lock:
            self.closed = True
            for sock in self._open:
                # shutdown() wakes a thread blocked in recv() on this socket; close() alone
                # does not on Linux.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTP(http.client.HTTPConnection):
    def __init__(self, *args: Any, sockets: _Sockets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # http.client opens its socket through this attribute (socket.create_connection).
        self._create_connection = sockets.watch(socket.create_connection)


class _WatchedHTTPS(http.client.HTTPSConnection):
    def __init__(self, *args: Any, sockets: _Sockets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sockets = sockets
        # The raw TCP socket, while it connects.
        self._create_connection = sockets.watch(socket.create_connection)

    def connect(self) -> None:
        super().connect()
        # Wrapping in TLS detached the raw socket (a shutdown of it no longer reaches the
        # connection): watch the TLS socket, which reads the answer. A handshake that drips
        # is bounded only per read, but the caller has stopped waiting by then, and the
        # worker ends here, on adopt(), once the handshake is over.
        self._sockets.adopt(self.sock)


class _WatchedHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """Opens http and https URLs on connections whose sockets ``sockets`` can shut down.

    A subclass of both standard handlers, so :func:`urllib.request.build_opener` adds
    neither of them beside it.
    """

    def __init__(self, sockets: _Sockets) -> None:
        super().__init__()
        self._sockets = sockets

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_WatchedHTTP, sockets=self._sockets), req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_WatchedHTTPS, sockets=self._sockets), req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # CelesTrak answers 301 to outdated URLs and asks clients to stop, not to follow.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def http_get(url: str, *, timeout: float, accept: str, follow_redirects: bool = True) -> bytes:
    """GET ``url`` and return the body of a 200 answer within ``timeout`` seconds in all.

    Raises :class:`FetchError` for anything else: not http(s), unreachable, a non-200
    status, a body over :data:`MAX_BODY_BYTES`, or no complete answer in time. Any other
    exception of the request is re-raised as it is (the caller records it).
    """
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"URL {url!r} is not http(s)")
    if not timeout > 0:
        raise FetchError("no time left for the request")
    sockets = _Sockets()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["body"] = _get(url, timeout, accept, follow_redirects, sockets)
        except BaseException as exc:  # handed to the caller's thread, raised there
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="crosstrack-http", daemon=True)
    worker.start()
    worker.join(timeout)
    timed_out = FetchError(f"timed out after {timeout:.3g} s (no complete answer from {url})")
    if worker.is_alive():
        sockets.shut_down()
        raise timed_out
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, TimeoutError) or (
            isinstance(error, urllib.error.URLError) and isinstance(error.reason, TimeoutError)
        ):
            raise timed_out from None
        raise error
    body: bytes = outcome["body"]
    return body


def _get(url: str, timeout: float, accept: str, follow: bool, sockets: _Sockets) -> bytes:
    # The scheme is checked by the caller: no file:// or custom-scheme surprises.
    request = urllib.request.Request(  # noqa: S310
        url, headers={"User-Agent": USER_AGENT, "Accept": accept}
    )
    handlers: list[urllib.request.BaseHandler] = [_WatchedHandler(sockets)]
    if not follow:
        handlers.append(_NoRedirect())
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            body: bytes = response.read(MAX_BODY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise FetchError(f"HTTP {exc.code}", status=exc.code) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise
        raise FetchError(f"cannot reach {url}: {exc.reason}") from None
    except TimeoutError:
        raise
    except (http.client.HTTPException, OSError) as exc:
        raise FetchError(f"connection to {url} failed: {type(exc).__name__}: {exc}") from None
    if status != 200:
        raise FetchError(f"HTTP {status}", status=status)
    if len(body) > MAX_BODY_BYTES:
        raise FetchError(f"response is larger than {MAX_BODY_BYTES} bytes")
    return body
