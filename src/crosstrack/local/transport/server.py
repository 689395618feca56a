"""HTTPS (and plain-HTTP) listeners on 127.0.0.1 around moto's WSGI application.

moto's ThreadedMotoServer has no TLS and werkzeug's development server closes the connection
after every response, so crosstrack serves moto's WSGI application with cheroot (HTTP/1.1
keep-alive, a worker pool, TLS from the generated certificate), plus a second listener
without TLS so that ``aws:SecureTransport = false`` can be probed. A thin WSGI layer in front of
moto records the raw request (wire.py) and refuses moto's unauthenticated admin API.
"""

from __future__ import annotations

import errno
import io
import logging
import queue
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from cheroot import server as cheroot_server
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from crosstrack.local.errors import PortInUseError
from crosstrack.local.setup.tls import TlsFiles
from crosstrack.local.transport.wire import CURRENT, WireRequest

HOST = "127.0.0.1"  # never 0.0.0.0: the emulator holds credentials and answers to anyone

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


# The largest request body the local AWS accepts (documented in docs/local-aws.md): larger
# S3 objects go up as a multipart upload, as in AWS (a single PUT there is at most 5 GB).
MAX_BODY_BYTES = 64 * 1024 * 1024
_READ_SIZE = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is over :data:`MAX_BODY_BYTES`; it was not read whole."""

    def __init__(self, size: int | None) -> None:
        super().__init__(f"request body over {MAX_BODY_BYTES} bytes")
        self.size = size


def _read_body(environ: dict[str, Any], limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused with :class:`BodyTooLarge` before it is buffered past
    ``limit`` (a declared Content-Length is refused before anything is read)."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            size = int(length)
        except ValueError:
            raise BodyTooLarge(None) from None
        if size > limit or size < 0:
            raise BodyTooLarge(size)
        return bytes(stream.read(size))
    if environ.get("wsgi.input_terminated"):  # chunked transfer, de-chunked by the server
        chunks = []
        total = 0
        while True:
            chunk = stream.read(_READ_SIZE)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise BodyTooLarge(None)
            chunks.append(chunk)
        return b"".join(chunks)
    return b""


class RequestCounter:
    """How many requests reached moto: each must have left at least one audit line."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def increment(self) -> None:
        with self._lock:
            self.value += 1


class KeyLocks:
    """One lock per S3 object path: a conditional write and the read-compare-store it
    implies happen as one step, as S3 guarantees
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
    moto alone was observed atomic under the threaded server; this makes it a guarantee."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def for_path(self, path: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(path, threading.Lock())


def _s3_object_write(wire: WireRequest) -> str | None:
    """The object an admitted S3 write acts on (as ``bucket/key``), else ``None``."""
    found = wire.admitted
    if wire.method not in ("PUT", "POST", "DELETE") or getattr(found, "service", "") != "s3":
        return None
    params = getattr(found, "params", {})
    key = params.get("Key")
    return f"{params.get('Bucket')}/{key}" if key else None


class RecordingApp:
    """Keep the exact request for the enforcement layer, then hand it to moto."""

    def __init__(
        self, inner: WsgiApp, *, secure: bool, counter: RequestCounter, locks: KeyLocks
    ) -> None:
        self.inner = inner
        self.secure = secure
        self.counter = counter
        self.locks = locks

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/moto-api"):
            # moto's admin API resets or dumps every account without authentication.
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        self.counter.increment()
        try:
            body = _read_body(environ)
        except BodyTooLarge as too_large:
            return self._too_large(environ, start_response, too_large)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        wire = self._wire(environ, body)
        token = CURRENT.set(wire)
        try:
            refusal = self._admit(wire)
            if refusal is not None:
                return list(refusal(environ, start_response))
            # moto picks the account from this header before the access key (and a presigned
            # URL has no key header at all): it must be the admitted caller's, never the
            # client's.
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = str(wire.caller_arn).split(":")[4]
            if wire.body_for_moto is not None:
                environ["wsgi.input"] = io.BytesIO(wire.body_for_moto)
                environ["CONTENT_LENGTH"] = str(len(wire.body_for_moto))
                # The checksums were of the body the client sent, not of this one.
                for header in [k for k in environ if k.startswith("HTTP_X_AMZ_CHECKSUM_")]:
                    environ.pop(header)
                environ.pop("HTTP_CONTENT_MD5", None)
            # moto builds the whole response before returning; materialise it while the
            # request context is still set.
            target = _s3_object_write(wire)
            if target is not None:
                with self.locks.for_path(target):
                    return self._serve(environ, start_response, wire)
            return self._serve(environ, start_response, wire)
        finally:
            CURRENT.reset(token)

    def _wire(self, environ: dict[str, Any], body: bytes) -> WireRequest:
        path = str(environ.get("PATH_INFO", ""))
        raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or path)
        raw_path, _, raw_query = raw_uri.partition("?")
        headers = [
            (key[5:].replace("_", "-").title(), str(value))
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ]
        for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
            if environ.get(key):
                headers.append((name, str(environ[key])))
        if "Content-Length" in dict(headers) and not body and environ.get("HTTP_TRANSFER_ENCODING"):
            headers = [h for h in headers if h[0] != "Content-Length"]
        try:
            port = int(environ.get("SERVER_PORT") or 0)
        except ValueError:
            port = 0
        return WireRequest(
            method=str(environ.get("REQUEST_METHOD", "GET")),
            raw_path=raw_path or "/",
            raw_query=raw_query or str(environ.get("QUERY_STRING", "")),
            headers=headers,
            body=body,
            secure=self.secure,
            source_ip=str(environ.get("REMOTE_ADDR", HOST)),
            listener_port=port,
        )

    def _admit(self, wire: WireRequest) -> WsgiApp | None:
        """None to let moto serve the request, or the AWS error that refuses it."""
        from crosstrack.local.auth.denials import AwsErrorResponse
        from crosstrack.local.auth.enforcer import active

        enforcer = active()
        if enforcer is None:  # no enforcement layer: serve nothing (fail closed)
            return _plain(503, "the local AWS is not running")
        try:
            enforcer.admit(wire)
        except AwsErrorResponse as refusal:
            return refusal
        return None

    def _serve(
        self, environ: dict[str, Any], start_response: StartResponse, wire: WireRequest
    ) -> list[bytes]:
        from crosstrack.local.services.s3_rules import merge_delete_result

        if not wire.delete_errors:
            return list(self.inner(environ, start_response))
        if wire.nothing_for_moto:
            body = merge_delete_result(b"", wire.delete_errors)
            start_response(
                "200 OK",
                [
                    ("Content-Type", "application/xml"),
                    ("Content-Length", str(len(body))),
                    ("x-amz-request-id", wire.request_id),
                ],
            )
            return [body]
        # DeleteObjects with refused keys: add their <Error> entries to moto's DeleteResult.
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        moto_body = b"".join(self.inner(environ, capture))
        merged = merge_delete_result(moto_body, wire.delete_errors)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(merged))))
        start_response(captured["status"], headers)
        return [merged]

    def _too_large(
        self, environ: dict[str, Any], start_response: StartResponse, too_large: BodyTooLarge
    ) -> Iterable[bytes]:
        from crosstrack.local.auth import denials, sigv4
        from crosstrack.local.auth.enforcer import active

        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        service = sigv4.scope_service(headers, str(environ.get("QUERY_STRING", ""))) or "s3"
        message = (
            "Your proposed upload exceeds the maximum allowed size"
            if service == "s3"
            else f"Request must be smaller than {MAX_BODY_BYTES} bytes"
        )
        error = denials.error(service, denials.Problem.TOO_LARGE, str(uuid.uuid4()), message)
        enforcer = active()
        if enforcer is not None:
            enforcer.decider.reject(
                request_id=error.request_id,
                via="https" if self.secure else "http",
                reason=denials.Problem.TOO_LARGE.value,
                detail={"size": too_large.size, "limit": MAX_BODY_BYTES},
            )

        def closing(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            # The body was not read: the connection cannot carry another request.
            return start_response(status, [*headers, ("Connection", "close")], *args)

        return list(error(environ, closing))


def _plain(status: int, text: str) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response(f"{status} Unavailable", [("Content-Type", "text/plain")])
        return [text.encode() + b"\n"]

    return app


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


def _body_settled(rfile: Any) -> bool:
    """Read what is left of the request body, up to ``_DRAIN_LIMIT``; True if none is left."""
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
        except (ValueError, OSError):  # malformed chunking: the stream is lost
            return False
        return bool(rfile.closed)
    return True


class _Request(cheroot_server.HTTPRequest):
    header_reader = _HeaderReader()

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
