"""A malformed chunk-size line is refused, never read as the end of the body.

Both chunked layers are checked, over raw TLS sockets against a running local AWS: the HTTP
``Transfer-Encoding: chunked`` framing (parsed by the listener) and the ``aws-chunked``
content encoding inside the body (parsed by the payload check). A chunk size is one to
sixteen hex digits, nothing else (RFC 9112 section 7.1; aws-chunked follows the same
grammar, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html): a sign, a
space, a ``0x`` prefix, an underscore, an empty line or a 20-digit number is a 400, the
object is left as it was, and the server closes the connection at once (no wait for bytes
that will never come).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from tests.local_helpers import client, make_bucket, operator_credentials

from crosstrack.local import LocalAWS

BUCKET = "chunk-sizes"
KEY = "object.txt"
ORIGINAL = b"original\n"
STREAMING = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

BAD_SIZES = [
    b"-4",
    b"-0",
    b"+4",
    b" 4",
    b"4 ",
    b"\t4",
    b"0x4",
    b"4_0",
    b"",
    b"ffffffffffffffffffff",
    b"4\x00",
]


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    with LocalAWS(tmp_path_factory.mktemp("chunk-sizes")) as running:
        make_bucket(running, BUCKET, {KEY: ORIGINAL})
        yield running


@pytest.fixture(autouse=True)
def original(aws: LocalAWS) -> None:
    client(aws, "s3").put_object(Bucket=BUCKET, Key=KEY, Body=ORIGINAL)


def _stored(aws: LocalAWS) -> bytes:
    return bytes(client(aws, "s3").get_object(Bucket=BUCKET, Key=KEY)["Body"].read())


def _head(aws: LocalAWS, declared: str, headers: dict[str, str]) -> bytes:
    """The request line and signed headers of a PUT of KEY (the body is the caller's)."""
    request = AWSRequest(method="PUT", url=f"{aws.endpoint}/{BUCKET}/{KEY}", headers=headers)

    class Signer(botocore.auth.S3SigV4Auth):
        def payload(self, request: Any) -> str:
            return declared

    Signer(operator_credentials(aws), "s3", "us-east-1").add_auth(request)
    host = aws.endpoint.split("//")[1]
    lines = [f"PUT /{BUCKET}/{KEY} HTTP/1.1", f"Host: {host}"] + [
        f"{name}: {value}" for name, value in request.headers.items() if name.lower() != "host"
    ]
    return "\r\n".join(lines).encode() + b"\r\n\r\n"


def _exchange(aws: LocalAWS, data: bytes) -> bytes:
    """Send ``data`` and read until the server closes the connection (10 s at most)."""
    host, port = aws.endpoint.split("//")[1].split(":")
    context = ssl.create_default_context(cafile=str(aws.ca_bundle))
    with (
        socket.create_connection((host, int(port)), timeout=10) as plain,
        context.wrap_socket(plain, server_hostname=host) as tls,
    ):
        tls.sendall(data)
        received = b""
        while chunk := tls.recv(65536):  # socket.timeout here: the server is waiting on us
            received += chunk
        return received


def _status(response: bytes) -> int:
    return int(response.split(b"\r\n", 1)[0].split(b" ")[1])


def _http_chunked(aws: LocalAWS, size: bytes) -> bytes:
    head = _head(
        aws,
        "UNSIGNED-PAYLOAD",
        {"Transfer-Encoding": "chunked", "Connection": "close"},
    )
    return _exchange(aws, head + size + b"\r\nBBBB\r\n0\r\n\r\n")


def _aws_chunked(aws: LocalAWS, size: bytes) -> bytes:
    body = size + b"\r\nBBBB\r\n0\r\n\r\n"
    head = _head(
        aws,
        STREAMING,
        {
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": "4",
            "Content-Length": str(len(body)),
            "Connection": "close",
        },
    )
    return _exchange(aws, head + body)


def test_well_formed_chunk_sizes_are_stored(aws: LocalAWS) -> None:
    for size in (b"4", b"04", b"4;name=value"):
        assert _status(_http_chunked(aws, size)) == 200
        assert _stored(aws) == b"BBBB"
        assert _status(_aws_chunked(aws, size.replace(b";name=value", b""))) == 200
        assert _stored(aws) == b"BBBB"


@pytest.mark.parametrize("size", BAD_SIZES, ids=repr)
def test_a_malformed_http_chunk_size_is_refused(aws: LocalAWS, size: bytes) -> None:
    response = _http_chunked(aws, size)
    assert _status(response) == 400, response[:400]
    assert b"<Code>IncompleteBody</Code>" in response or b"<Code>EntityTooLarge</Code>" in response
    assert _stored(aws) == ORIGINAL


@pytest.mark.parametrize("size", BAD_SIZES, ids=repr)
def test_a_malformed_aws_chunk_size_is_refused(aws: LocalAWS, size: bytes) -> None:
    response = _aws_chunked(aws, size)
    assert _status(response) == 400, response[:400]
    assert b"<Code>IncompleteBody</Code>" in response
    assert _stored(aws) == ORIGINAL


def test_a_huge_http_chunk_is_refused_before_it_is_read(aws: LocalAWS) -> None:
    # 1 GiB announced, 4 bytes sent: the answer comes at once, not after the idle timeout.
    response = _http_chunked(aws, b"40000000")
    assert _status(response) == 400, response[:400]
    assert b"<Code>EntityTooLarge</Code>" in response
    assert _stored(aws) == ORIGINAL


def test_trailers_after_the_last_chunk_are_not_a_second_request(aws: LocalAWS) -> None:
    head = _head(aws, "UNSIGNED-PAYLOAD", {"Transfer-Encoding": "chunked"})
    body = b"4\r\nCCCC\r\n0\r\nX-Trailer: GET / HTTP/1.1\r\n\r\n"
    host = aws.endpoint.split("//")[1]
    closing = f"GET /{BUCKET}/nothing HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    response = _exchange(aws, head + body + closing.encode())
    statuses = [
        int(line.split(b" ")[1])
        for line in response.split(b"\r\n")
        if line.startswith(b"HTTP/1.1 ")
    ]
    # The PUT, then the unsigned GET (refused as S3 refuses anonymous requests): two answers.
    assert statuses == [200, 403], response[:600]
    assert _stored(aws) == b"CCCC"
