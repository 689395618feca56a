"""The request as it arrived on the wire, kept for the enforcement layer.

moto parses a request into parameters and may consume or rewrite its body; signature
verification needs the exact bytes, and ``aws:SecureTransport`` needs the listener the
request came through. The WSGI layer (server.py) records both here for the thread that
serves the request (cheroot's worker pool serves each request in one thread).
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WireRequest:
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes
    secure: bool
    source_ip: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # (action, resource) pairs already decided for this request: moto may ask twice.
    decided: set[tuple[str, str]] = field(default_factory=set)
    caller_arn: str | None = None
    # The port of the listener the request came in on (its Host must name it).
    listener_port: int = 0
    # The operation the enforcement layer admitted (operations.Classified); moto may serve
    # nothing else.
    admitted: Any = None
    # The region of the signature's credential scope: moto must serve the request there.
    region: str | None = None
    # DeleteObjects with keys the caller may not delete: the body moto gets instead, and the
    # <Error> entries to add to moto's DeleteResult.
    body_for_moto: bytes | None = None
    delete_errors: bytes = b""
    nothing_for_moto: bool = False  # every key was refused: S3's answer needs no moto

    def header_map(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for name, value in self.headers:
            key = name.lower()
            merged[key] = f"{merged[key]},{value}" if key in merged else value
        return merged


CURRENT: contextvars.ContextVar[WireRequest | None] = contextvars.ContextVar(
    "crosstrack_local_wire_request", default=None
)


def current() -> WireRequest | None:
    return CURRENT.get()
