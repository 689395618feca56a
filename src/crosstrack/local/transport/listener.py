"""HTTP/1.1 listeners on 127.0.0.1 (cheroot): keep-alive, a worker pool, optional TLS.

moto's ThreadedMotoServer has no TLS and werkzeug's development server closes the connection
after every response, so crosstrack serves its WSGI application with cheroot (HTTP/1.1
keep-alive, a worker pool, TLS from the generated certificate). The environ is the one
werkzeug's server would give moto (raw URI, decoded path, header names as sent); a body the
application left unread is drained or the connection closed, never parsed as a request.
"""

from __future__ import annotations

import errno
import logging
import queue
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from cheroot import server as cheroot_server
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from crosstrack.local.auth.payload import MalformedChunk, chunk_line
from crosstrack.local.errors import PortInUseError
from crosstrack.local.setup.tls import TlsFiles

HOST = "127.0.0.1"  # never 0.0.0.0: the emulator holds credentials and answers to anyone

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


# Terraform runs 10 operations at once by default, the Lambda runner and the scheduler add
# a few more; a worker thread is busy only while a request is being answered (cheroot parks
# idle keep-alive connections in a selector), so 16 threads serve them all on 2 cores.
_WORKER_THREADS = 16
# Idle persistent connections kept open per listener; cheroot's default of 10 would close
# the connections of a Terraform run beyond the tenth after every response.
_KEEP_ALIVE_CONNECTIONS = 64
# Seconds a connection may stay idle (or stall mid-request). Longer than the 90 s after which
# Go's transport (Terraform's AWS provider) retires an idle connection, so that client closes
# first; botocore checks a pooled connection before reusing it and reconnects if it was closed.
_IDLE_TIMEOUT = 120
# A body the application left unread (a refusal sent before reading it) is read and discarded
# up to this size, so the connection can carry the next request; beyond it the connection is
# closed instead: its bytes must never be parsed as the next request.
_DRAIN_LIMIT = 1 << 20


class _HeaderReader(cheroot_server.HeaderReader):
    """Drop headers with an underscore in their name, except S3 metadata (``x-amz-meta-``).

    WSGI folds ``-`` and ``_`` into the same environ key, so ``X_Amz_Date`` could stand in for
    ``X-Amz-Date``; S3 metadata keys may legitimately contain underscores
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html).
    """

    def _allow_header(self, key_name: bytes) -> bool:
        allowed: bool = super()._allow_header(key_name)  # type: ignore[misc]
        return allowed and (b"_" not in key_name or key_name.lower().startswith(b"x-amz-meta-"))


# Set on the request's body stream (``wsgi.input``) by the gateway when its chunked framing
# was malformed: what follows on the connection is not the next request, and reading on
# would take a garbage line for a chunk size and wait for that many bytes.
BODY_LOST = "crosstrack_body_lost"

# The largest request body the local AWS accepts (documented in docs/local-aws.md): larger
# S3 objects go up as a multipart upload, as in AWS (a single PUT there is at most 5 GB).
MAX_BODY_BYTES = 64 * 1024 * 1024
# A chunk-size line (with its extension: aws-chunked signatures are ~80 bytes), and all the
# trailer lines after the last chunk, are at most this long.
_MAX_CHUNK_LINE = 4096
_MAX_HEADER_BYTES = 64 * 1024
_MAX_TRAILERS = 16384


class ChunkOverLimit(ValueError):
    """A chunk would take the request body over :data:`MAX_BODY_BYTES`; it was not read."""


class _ChunkedBody(cheroot_server.ChunkedRFile):
    """cheroot's chunked body reader with the chunk grammar enforced.

    cheroot reads a chunk size with ``int(line, 16)``, which takes ``-4`` for the last chunk
    (the rest of the body was then parsed as the next request), and ``4_0`` or ``0x4`` for
    sizes; it reads a chunk of any announced size before anyone can refuse it, and leaves
    trailer lines on the connection. Here a size is 1 to 16 hex digits (payload.chunk_line),
    a chunk that would take the body over the limit is refused unread, and the trailer
    section is consumed up to its empty line.
    """

    def __init__(self, rfile: Any, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(rfile, 0)
        self.limit = limit
        self.data_read = 0

    def _line(self, limit: int) -> bytes:
        line: bytes = self.rfile.readline(limit + 1)
        if len(line) > limit or not line.endswith(b"\r\n"):
            raise MalformedChunk(f"chunked body: line {line[:40]!r} is not CRLF-terminated")
        return line[:-2]

    def _fetch(self) -> None:
        if self.closed:
            return
        size, _ = chunk_line(self._line(_MAX_CHUNK_LINE))
        if size == 0:
            self._skip_trailers()
            self.closed = True
            return
        if self.data_read + size > self.limit:
            raise ChunkOverLimit(f"a chunk of {size} bytes takes the body over {self.limit}")
        chunk: bytes = self.rfile.read(size)
        if len(chunk) != size or self.rfile.read(2) != b"\r\n":
            raise MalformedChunk("chunked body: a chunk is not the size its line announced")
        self.data_read += size
        self.buffer += chunk

    def _skip_trailers(self) -> None:
        budget = _MAX_TRAILERS
        while line := self._line(budget):
            budget -= len(line) + 2


def _body_settled(rfile: Any) -> bool:  # noqa: PLR0911 - one answer per stream state
    """Read what is left of the request body, up to ``_DRAIN_LIMIT``; True if none is left."""
    if getattr(rfile, BODY_LOST, False):
        return False
    if isinstance(rfile, cheroot_server.KnownLengthRFile):
        remaining = int(rfile.remaining)
        if remaining > _DRAIN_LIMIT:
            return False
        while remaining > 0:
            data = rfile.read(min(remaining, 65536))
            if not data:
                return False
            remaining -= len(data)
        return True
    if isinstance(rfile, cheroot_server.ChunkedRFile):
        drained = 0
        try:
            while not rfile.closed and drained <= _DRAIN_LIMIT:
                data = rfile.read(65536)
                if not data:
                    break
                drained += len(data)
        except (ValueError, OverflowError, OSError):  # malformed chunking: the stream is lost
            return False
        return bool(rfile.closed)
    return True


class _OneContentLength(dict[bytes, bytes]):
    """cheroot's header dict, refusing a second ``Content-Length`` (cheroot kept the last:
    ``0`` then ``30`` waited for 30 bytes). RFC 9112 §6.3: differing values are an
    unrecoverable error. cheroot answers the ValueError with 400 and closes."""

    def __setitem__(self, key: bytes, value: bytes) -> None:
        if key == b"Content-Length" and key in self:
            raise ValueError("Repeated Content-Length header.")
        super().__setitem__(key, value)


class _Request(cheroot_server.HTTPRequest):
    header_reader = _HeaderReader()

    def read_request_headers(self) -> bool:
        self.inheaders = _OneContentLength()
        if not super().read_request_headers():  # type: ignore[no-untyped-call]
            return False
        if b"Transfer-Encoding" in self.inheaders and b"Content-Length" in self.inheaders:
            # RFC 9112 §6.3: both framings at once "ought to be handled as an error" (a
            # smuggling attempt), and the connection MUST be closed after the answer:
            # cheroot followed the chunked one and served what came after as a new request.
            self.close_connection = True
            self.simple_response("400 Bad Request", "Both Content-Length and Transfer-Encoding.")
            return False
        return True

    def send_headers(self) -> None:
        # cheroot itself drains an unread Content-Length body (when the connection is kept)
        # but not an unread chunked one, whose chunks would then be parsed as the next
        # request. Settle both here, just before the response decides the connection's fate.
        if not self.close_connection and not _body_settled(self.rfile):
            self.close_connection = True
        super().send_headers()


class _Connection(cheroot_server.HTTPConnection):
    RequestHandlerClass = _Request


class _Gateway(wsgi.Gateway_10):
    """The environ werkzeug's server gave moto, from cheroot's request."""

    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]  # stub says None
        env: dict[str, Any] = super().get_environ()  # type: ignore[no-untyped-call]
        raw_uri = str(env.get("REQUEST_URI", ""))
        # The request target exactly as sent (origin or absolute form): SigV4 signs the
        # percent-encoded path, and moto reads S3 keys from it.
        env["RAW_URI"] = raw_uri
        if isinstance(self.req.rfile, cheroot_server.ChunkedRFile):
            # Nothing of the body has been read yet: read it with the strict chunk grammar.
            self.req.rfile = env["wsgi.input"] = _ChunkedBody(self.req.conn.rfile)
        target = raw_uri.partition("?")[0]
        if "://" in target:
            target = urlsplit(target).path
        # cheroot keeps %2F encoded in PATH_INFO; WSGI servers (werkzeug included) decode
        # every escape, and moto's routing expects that.
        env["PATH_INFO"] = unquote_to_bytes(target or "/").decode("latin-1")
        # S3 metadata names keep their underscores (moto reports the name it is given),
        # but never stand in for the dashed header of the same environ key.
        names: dict[str, str] = {}
        dashed: dict[str, str] = {}
        for raw_name, value in self.req.inheaders.items():
            text = raw_name.decode("latin-1")
            key = "HTTP_" + text.upper().replace("-", "_")
            if "_" in text:
                names.setdefault(key, text.lower())
            else:
                dashed[key] = value.decode("latin-1")
        for key, value in dashed.items():
            if key in names:
                del names[key]
                env[key] = value
        from crosstrack.local.moto.app import PRESERVED_HEADER_NAMES_KEY

        env[PRESERVED_HEADER_NAMES_KEY] = names
        return env


class _Server(wsgi.Server):
    ConnectionClass = _Connection
    keep_alive_conn_limit = _KEEP_ALIVE_CONNECTIONS
    # The request line and headers together (cheroot: no limit; a 200 KiB header was read
    # whole). S3 allows 8 KB of PUT headers; presigned URLs and Terraform stay far below.
    max_request_header_size = _MAX_HEADER_BYTES

    def __init__(self, port: int, app: WsgiApp, name: str) -> None:
        super().__init__(
            (HOST, port),
            app,
            numthreads=_WORKER_THREADS,
            server_name=f"crosstrack-local-{name}",
            timeout=_IDLE_TIMEOUT,
            shutdown_timeout=2,
            request_queue_size=64,
        )
        self.gateway = _Gateway

    def error_log(self, msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
        # The audit log is the record of requests; clients that drop a connection or
        # refuse the throw-away certificate are not errors of the local AWS. An exception
        # of the application (answered 500) is, and keeps its traceback on stderr.
        if level >= logging.ERROR:
            super().error_log(msg, level, traceback)


@dataclass
class Listener:
    server: _Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.bind_addr[1])

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=5)


def _bind_error(port: int) -> OSError | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            return exc
    return None


def port_is_free(port: int) -> bool:
    return _bind_error(port) is None


def _tls_adapter(tls: TlsFiles) -> BuiltinSSLAdapter:
    adapter = BuiltinSSLAdapter(str(tls.server_cert), str(tls.server_key))
    adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
    return adapter


def _serve(server: _Server, prepared: queue.Queue[BaseException | None]) -> None:
    # prepare() runs here, not in the caller, so that cheroot's worker threads are created
    # by a daemon thread and are daemons too: a process that forgets stop() still exits.
    try:
        server.prepare()
    except BaseException as exc:  # handed to listen(), which raises it in the caller
        prepared.put(exc)
        return
    prepared.put(None)
    server.serve()


def listen(app: WsgiApp, port: int, *, tls: TlsFiles | None, name: str) -> Listener:
    """Serve ``app`` on 127.0.0.1:``port`` (0 = any free port) in a daemon thread.

    HTTP/1.1 with persistent connections and a pool of worker threads (cheroot); TLS 1.2 or
    later with the generated certificate when ``tls`` is given.
    """
    server = _Server(port, app, name)
    if tls is not None:
        server.ssl_adapter = _tls_adapter(tls)
    prepared: queue.Queue[BaseException | None] = queue.Queue()
    thread = threading.Thread(target=_serve, args=(server, prepared), name=name, daemon=True)
    thread.start()
    failure = prepared.get()
    if failure is not None:
        thread.join(timeout=5)
        # cheroot reports a failed bind as an OSError without errno: ask the OS again.
        cause = _bind_error(port) if isinstance(failure, OSError) else None
        if cause is not None and cause.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUseError(
                f"port {port} on {HOST} is already in use ({cause.strerror}); "
                "choose another with --port, or 0 for any free port"
            ) from failure
        raise failure
    return Listener(server=server, thread=thread)
