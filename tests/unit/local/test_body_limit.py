"""Request bodies over the limit are refused without being buffered whole."""

from __future__ import annotations

import io

import pytest

from crosstrack.local.transport.server import BodyTooLarge, _read_body


class Unreadable(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body must not be read")


class Endless(io.RawIOBase):
    """A chunked body that never ends; counts what was read."""

    def __init__(self) -> None:
        self.served = 0

    def read(self, size: int = -1) -> bytes:
        size = 4096 if size is None or size < 0 else size
        self.served += size
        return b"x" * size


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    environ = {"wsgi.input": Unreadable(), "CONTENT_LENGTH": str(1025)}
    with pytest.raises(BodyTooLarge) as refused:
        _read_body(environ, limit=1024)
    assert refused.value.size == 1025


def test_a_chunked_body_is_cut_off_just_past_the_limit() -> None:
    stream = Endless()
    environ = {"wsgi.input": stream, "wsgi.input_terminated": True}
    with pytest.raises(BodyTooLarge):
        _read_body(environ, limit=3 * 1024 * 1024)
    assert stream.served <= 4 * 1024 * 1024


def test_bodies_within_the_limit_are_read_whole() -> None:
    environ = {"wsgi.input": io.BytesIO(b"a" * 1024), "CONTENT_LENGTH": "1024"}
    assert _read_body(environ, limit=1024) == b"a" * 1024
    chunked = {"wsgi.input": io.BytesIO(b"b" * 10), "wsgi.input_terminated": True}
    assert _read_body(chunked, limit=1024) == b"b" * 10
