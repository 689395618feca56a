"""The payload a SigV4 request declares, checked against the bytes that arrived.

``x-amz-content-sha256`` is signed, but a signature only proves the *declared* value; S3
then checks the body against it
(https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html):

* ``UNSIGNED-PAYLOAD``: nothing to check;
* a hex SHA-256: must equal the body's (``XAmzContentSHA256Mismatch``);
* ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` (botocore's PutObject over HTTPS): an aws-chunked
  body whose decoded length must equal ``x-amz-decoded-content-length`` and whose trailing
  ``x-amz-checksum-*`` must match the decoded bytes (``BadDigest``);
* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``: every chunk (and the trailer) carries a
  signature chained from the seed signature
  (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html).

Pure functions; the caller turns a :class:`PayloadError` into the S3 error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# chunk-size [ BWS ";" chunk-ext ] (RFC 9112 section 7.1, which aws-chunked follows): hex
# digits only, at most 16 of them. int(x, 16) alone also takes "-4" (read as the last chunk),
# "+4", " 4", "0x4" and "4_0".
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:[ \t]*(;[^\r\n\x00]*))?")


class MalformedChunk(ValueError):
    """A chunk-size line that is not 1 to 16 hex digits (and an optional extension)."""


def chunk_line(line: bytes) -> tuple[int, bytes]:
    """(size, extension) of a chunk-size line given without its CRLF."""
    match = _CHUNK_LINE.fullmatch(line)
    if match is None:
        raise MalformedChunk(f"malformed chunk size line {line[:40]!r}")
    return int(match.group(1), 16), match.group(2) or b""


class PayloadError(ValueError):
    """The body does not match what the request declared."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _reflected_crc(poly: int, width: int) -> Callable[[bytes], bytes]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    mask = (1 << width) - 1

    def digest(data: bytes) -> bytes:
        crc = mask
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return (crc ^ mask).to_bytes(width // 8, "big")

    return digest


# https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "crc32c": _reflected_crc(0x82F63B78, 32),
    "crc64nvme": _reflected_crc(0x9A6C9329AC4BC9B5, 64),
    "sha1": lambda data: hashlib.sha1(data).digest(),  # noqa: S324 - S3's checksum, not security
    "sha256": lambda data: hashlib.sha256(data).digest(),
}


@dataclass(frozen=True)
class ChunkSigning:
    """What chunk signatures are chained from: the seed signature and its scope."""

    key: bytes
    amz_date: str
    scope: str
    seed_signature: str


def _mismatch_sha() -> PayloadError:
    return PayloadError(
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )


def _incomplete() -> PayloadError:
    return PayloadError(
        "IncompleteBody",
        "The request body terminated unexpectedly",
    )


def _chunk_signature(signing: ChunkSigning, previous: str, data: bytes) -> str:
    return _sign(signing, "AWS4-HMAC-SHA256-PAYLOAD", previous, EMPTY_SHA256, _sha256(data))


def _trailer_signature(signing: ChunkSigning, previous: str, trailer: bytes) -> str:
    return _sign(signing, "AWS4-HMAC-SHA256-TRAILER", previous, _sha256(trailer))


def _sign(signing: ChunkSigning, algorithm: str, previous: str, *hashes: str) -> str:
    """A chunk's or trailer's signature: its string to sign chains the previous signature
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html)."""
    to_sign = "\n".join([algorithm, signing.amz_date, signing.scope, previous, *hashes])
    return hmac.new(signing.key, to_sign.encode(), hashlib.sha256).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bad_signature() -> PayloadError:
    return PayloadError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        status=403,
    )


def decode_chunked(  # noqa: PLR0912 - the aws-chunked grammar, step by step
    body: bytes, signing: ChunkSigning | None
) -> tuple[bytes, dict[str, str]]:
    """(decoded data, trailing headers) of an aws-chunked body, chunk signatures checked
    when ``signing`` is given."""
    data = bytearray()
    position = 0
    previous = signing.seed_signature if signing else ""
    while True:
        end = body.find(b"\r\n", position)
        if end < 0:
            raise _incomplete()
        try:
            size, raw_extension = chunk_line(body[position:end])
        except MalformedChunk:
            raise _incomplete() from None
        extension = raw_extension[1:].decode("ascii", "replace")
        chunk = body[end + 2 : end + 2 + size]
        if len(chunk) != size:
            raise _incomplete()
        if signing is not None:
            name, _, claimed = extension.partition("=")
            expected = _chunk_signature(signing, previous, chunk)
            if name.strip() != "chunk-signature" or not hmac.compare_digest(claimed, expected):
                raise _bad_signature()
            previous = expected
        data += chunk
        position = end + 2 + size
        if size == 0:
            break
        if body[position : position + 2] != b"\r\n":
            raise _incomplete()
        position += 2
    trailers: dict[str, str] = {}
    trailer_text = b""
    for line in body[position:].split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.decode("ascii", "replace").partition(":")
        if not sep:
            raise _incomplete()
        if name.strip().lower() == "x-amz-trailer-signature":
            if signing is None or not hmac.compare_digest(
                value.strip(), _trailer_signature(signing, previous, trailer_text)
            ):
                raise _bad_signature()
            continue
        trailers[name.strip().lower()] = value.strip()
        trailer_text += f"{name.strip().lower()}:{value.strip()}\n".encode()
    return bytes(data), trailers


def _check_checksums(data: bytes, declared: Mapping[str, str]) -> None:
    for name, value in declared.items():
        if not name.startswith("x-amz-checksum-"):
            continue
        algorithm = name.removeprefix("x-amz-checksum-")
        compute = CHECKSUMS.get(algorithm)
        if compute is None:  # x-amz-checksum-type, -algorithm, …: not a checksum value
            continue
        if base64.b64encode(compute(data)).decode() != value:
            raise PayloadError(
                "BadDigest",
                f"The {algorithm.upper()} you specified did not match the calculated checksum.",
            )


def check(
    declared: str | None,
    headers: Mapping[str, str],
    body: bytes,
    *,
    signing: ChunkSigning | None,
    body_checksums: bool = False,
) -> None:
    """Raise :class:`PayloadError` unless the body is what ``x-amz-content-sha256`` says.

    ``body_checksums``: the request's ``x-amz-checksum-*`` headers are checksums of this
    body (PutObject, UploadPart) rather than of a whole multipart object.
    """
    header_sums = headers if body_checksums else {}
    if declared is None or declared == UNSIGNED:
        _check_checksums(body, header_sums)
        return
    if declared in (STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
        chunk_signing = None if declared == STREAMING_UNSIGNED_TRAILER else signing
        data, trailers = decode_chunked(body, chunk_signing)
        expected = headers.get("x-amz-decoded-content-length")
        if expected is None or not expected.isdigit() or int(expected) != len(data):
            raise _incomplete()
        _check_checksums(data, {**header_sums, **trailers})
        return
    if not _HEX64.match(declared):
        raise PayloadError(
            "InvalidArgument",
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a SHA-256 or a STREAMING-… value",
        )
    if not hmac.compare_digest(hashlib.sha256(body).hexdigest(), declared):
        raise _mismatch_sha()
    _check_checksums(body, header_sums)
