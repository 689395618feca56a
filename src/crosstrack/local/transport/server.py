"""The WSGI gateway in front of moto: records the raw request, admits it or refuses it.

The listeners (listener.py: HTTPS, and plain HTTP so that ``aws:SecureTransport = false``
can be probed) serve :class:`RecordingApp`, which keeps the exact request for the
enforcement layer (wire.py), caps the body size, serialises writes to one S3 object, and
refuses moto's unauthenticated admin API before moto sees anything.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from crosstrack.local.moto.app import PRESERVED_HEADER_NAMES_KEY
from crosstrack.local.transport.listener import (
    BODY_LOST,
    HOST,
    MAX_BODY_BYTES,
    ChunkOverLimit,
    StartResponse,
    WsgiApp,
)
from crosstrack.local.transport.wire import CURRENT, WireRequest

_READ_SIZE = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is over :data:`MAX_BODY_BYTES`; it was not read whole."""

    def __init__(self, size: int | None) -> None:
        super().__init__(f"request body over {MAX_BODY_BYTES} bytes")
        self.size = size


class BadChunking(Exception):
    """The chunked transfer encoding of the request body is malformed."""


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
            try:
                chunk = stream.read(_READ_SIZE)
            except ChunkOverLimit:  # refused before the chunk was read
                setattr(stream, BODY_LOST, True)
                raise BodyTooLarge(None) from None
            except (ValueError, OverflowError) as exc:  # a malformed chunk-size line or chunk
                setattr(stream, BODY_LOST, True)  # the connection closes after the answer
                raise BadChunking(str(exc)) from None
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
        except BadChunking as bad:
            return self._bad_chunking(environ, start_response, bad)
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
            if getattr(wire.admitted, "service", "") == "s3" and "\n" in environ["PATH_INFO"]:
                # moto routes on the decoded path with patterns whose "." stops at a newline
                # (a key "a\nb" was a 404), and reads the key itself from RAW_URI (the raw
                # path, unquoted): route on the escaped newline, serve the same key.
                environ["PATH_INFO"] = environ["PATH_INFO"].replace("\n", "%0A")
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
        # A header sent with underscores (S3 metadata `x-amz-meta-my_key`) is signed under
        # that name: the listener kept it (moto's preserved-names map); others are dashed.
        preserved: dict[str, str] = environ.get(PRESERVED_HEADER_NAMES_KEY) or {}
        headers = [
            (preserved.get(key) or key[5:].replace("_", "-").title(), str(value))
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

        return list(error(environ, _closing(start_response)))

    def _bad_chunking(
        self, environ: dict[str, Any], start_response: StartResponse, bad: BadChunking
    ) -> Iterable[bytes]:
        """S3's answer to a body that is not what its framing announced (IncompleteBody),
        recorded as a rejection; moto never sees the request."""
        from crosstrack.local.auth import denials
        from crosstrack.local.auth.enforcer import active

        error = denials.s3_error(
            400, "IncompleteBody", f"Malformed chunked request body: {bad}", str(uuid.uuid4())
        )
        enforcer = active()
        if enforcer is not None:
            enforcer.decider.reject(
                request_id=error.request_id,
                via="https" if self.secure else "http",
                reason="malformed chunked body",
                detail={"error": str(bad)},
            )
        return list(error(environ, _closing(start_response)))


def _closing(start_response: StartResponse) -> StartResponse:
    """A response after which the connection is closed: the body was not read whole."""

    def closing(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        return start_response(status, [*headers, ("Connection", "close")], *args)

    return closing


def _plain(status: int, text: str) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response(f"{status} Unavailable", [("Content-Type", "text/plain")])
        return [text.encode() + b"\n"]

    return app
