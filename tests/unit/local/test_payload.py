"""The declared payload is checked against the body, with AWS's own worked examples."""

from __future__ import annotations

import base64
import hashlib
import io
import zlib

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from crosstrack.local.auth import payload, sigv4

# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html, "Example: PUT Object":
# 65 KiB of "a" in a 64 KiB and a 1 KiB chunk, and the signatures S3 expects for them.
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
SIGNING = payload.ChunkSigning(
    key=sigv4.signing_key(SECRET, "20130524", "us-east-1", "s3"),
    amz_date="20130524T000000Z",
    scope="20130524/us-east-1/s3/aws4_request",
    seed_signature=SEED,
)


def _aws_example(signatures: tuple[str, ...] = CHUNK_SIGNATURES) -> bytes:
    chunks = (b"a" * 65536, b"a" * 1024, b"")
    return b"".join(
        f"{len(data):x};chunk-signature={sig}\r\n".encode() + data + b"\r\n"
        for data, sig in zip(chunks, signatures, strict=True)
    )


def test_the_aws_streaming_example_verifies() -> None:
    headers = {"x-amz-decoded-content-length": "66560"}
    payload.check(payload.STREAMING_SIGNED, headers, _aws_example(), signing=SIGNING)


def test_a_chunk_signed_for_other_data_is_refused() -> None:
    body = _aws_example().replace(b"a" * 1024, b"b" * 1024)
    with pytest.raises(payload.PayloadError) as refused:
        payload.check(
            payload.STREAMING_SIGNED,
            {"x-amz-decoded-content-length": "66560"},
            body,
            signing=SIGNING,
        )
    assert refused.value.code == "SignatureDoesNotMatch"


def test_chunks_out_of_order_are_refused() -> None:
    swapped = (CHUNK_SIGNATURES[1], CHUNK_SIGNATURES[0], CHUNK_SIGNATURES[2])
    with pytest.raises(payload.PayloadError, match="signature"):
        payload.check(
            payload.STREAMING_SIGNED,
            {"x-amz-decoded-content-length": "66560"},
            _aws_example(swapped),
            signing=SIGNING,
        )


def test_a_hex_payload_hash_must_be_the_body_s() -> None:
    declared = hashlib.sha256(b"AAAA").hexdigest()
    payload.check(declared, {}, b"AAAA", signing=None)
    with pytest.raises(payload.PayloadError) as refused:
        payload.check(declared, {}, b"BBBB", signing=None)
    assert refused.value.code == "XAmzContentSHA256Mismatch"


def _botocore_trailer_body(data: bytes) -> bytes:
    """An aws-chunked body with a CRC32 trailer, encoded by botocore itself."""
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32"
    )
    return bytes(wrapper.read())


def test_botocore_s_unsigned_trailer_body_is_accepted() -> None:
    data = b"ISS Location Logs\n" * 100
    headers = {"x-amz-decoded-content-length": str(len(data))}
    payload.check(
        payload.STREAMING_UNSIGNED_TRAILER, headers, _botocore_trailer_body(data), signing=None
    )


def test_a_trailer_checksum_of_other_data_is_bad_digest() -> None:
    body = _botocore_trailer_body(b"AAAA").replace(b"AAAA", b"BBBB")
    with pytest.raises(payload.PayloadError) as refused:
        payload.check(
            payload.STREAMING_UNSIGNED_TRAILER,
            {"x-amz-decoded-content-length": "4"},
            body,
            signing=None,
        )
    assert refused.value.code == "BadDigest"


def test_a_wrong_decoded_length_is_refused() -> None:
    with pytest.raises(payload.PayloadError) as refused:
        payload.check(
            payload.STREAMING_UNSIGNED_TRAILER,
            {"x-amz-decoded-content-length": "5"},
            _botocore_trailer_body(b"AAAA"),
            signing=None,
        )
    assert refused.value.code == "IncompleteBody"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        # The CRC catalogue's check values for "123456789".
        ("crc32", 0xCBF43926.to_bytes(4, "big")),
        ("crc32c", 0xE3069283.to_bytes(4, "big")),
        ("crc64nvme", 0xAE8B14860A799888.to_bytes(8, "big")),
        ("sha256", hashlib.sha256(b"123456789").digest()),
    ],
)
def test_checksums_match_their_reference_values(algorithm: str, expected: bytes) -> None:
    assert payload.CHECKSUMS[algorithm](b"123456789") == expected


def test_a_checksum_header_of_a_put_body_is_checked() -> None:
    good = base64.b64encode(zlib.crc32(b"AAAA").to_bytes(4, "big")).decode()
    payload.check(
        "UNSIGNED-PAYLOAD",
        {"x-amz-checksum-crc32": good},
        b"AAAA",
        signing=None,
        body_checksums=True,
    )
    with pytest.raises(payload.PayloadError, match="CRC32"):
        payload.check(
            "UNSIGNED-PAYLOAD",
            {"x-amz-checksum-crc32": good},
            b"BBBB",
            signing=None,
            body_checksums=True,
        )
