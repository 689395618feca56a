"""The local AWS behind cheroot, through boto3: signatures still verify over the raw path
(keys with spaces, ``+``, ``%2F``, unicode), connections are reused, chunked uploads work."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from crosstrack.local import LocalAWS

AWKWARD_KEYS = [
    "with space",
    "plus+sign",
    "encoded%2Fslash",
    "dir/ü ñ/€ 日本",
    "query?x=y&z",
    "~tilde*'()!$;,",
    "double//slash",
    "percent%25literal",
]


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    with LocalAWS(tmp_path_factory.mktemp("local-aws")) as running:
        yield running


def _s3(aws: LocalAWS, endpoint: str | None = None) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint or aws.endpoint,
        verify=str(aws.ca_bundle),
        region_name="us-east-1",
        aws_access_key_id=aws.operator.access_key_id,
        aws_secret_access_key=aws.operator.secret_access_key,
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.mark.parametrize("listener", ["https", "http"])
def test_awkward_keys_round_trip_with_valid_signatures(aws: LocalAWS, listener: str) -> None:
    endpoint = aws.endpoint if listener == "https" else aws.http_endpoint
    s3 = _s3(aws, endpoint)
    bucket = f"awkward-keys-{listener}"
    s3.create_bucket(Bucket=bucket)
    for key in AWKWARD_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="dir/ü ñ/")["Contents"]
    assert [entry["Key"] for entry in listed] == ["dir/ü ñ/€ 日本"]
    everything = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(entry["Key"] for entry in everything) == sorted(AWKWARD_KEYS)


def test_one_client_reuses_one_tls_connection(
    aws: LocalAWS, caplog: pytest.LogCaptureFixture
) -> None:
    s3 = _s3(aws)
    s3.create_bucket(Bucket="keep-alive")
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    caplog.clear()
    for index in range(20):
        s3.put_object(Bucket="keep-alive", Key=f"k{index}", Body=b"x" * 1024)
        s3.get_object(Bucket="keep-alive", Key=f"k{index}")["Body"].read()
    opened = [r for r in caplog.records if "Starting new HTTPS connection" in r.getMessage()]
    reset = [r for r in caplog.records if "Resetting dropped connection" in r.getMessage()]
    assert len(opened) <= 1
    assert reset == []


def test_chunked_upload_is_stored_whole(aws: LocalAWS) -> None:
    s3 = _s3(aws)
    s3.create_bucket(Bucket="chunked")
    sent: list[dict[str, str]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(
            {
                k.lower(): v.decode() if isinstance(v, bytes) else str(v)
                for k, v in request.headers.items()
            }
        )

    s3.meta.events.register("before-send.s3.PutObject", record)
    body = bytes(range(256)) * 40
    s3.upload_fileobj(io.BytesIO(body), "chunked", "streamed")
    s3.upload_fileobj(io.BytesIO(body[:100]), "chunked", "second")
    assert s3.get_object(Bucket="chunked", Key="streamed")["Body"].read() == body
    assert s3.get_object(Bucket="chunked", Key="second")["Body"].read() == body[:100]
    # botocore streams these uploads: the test is about the chunked path.
    assert sent[0].get("transfer-encoding") == "chunked"
    assert "aws-chunked" in sent[0].get("content-encoding", "")


def test_bodiless_and_large_responses_keep_the_framing(aws: LocalAWS) -> None:
    """HEAD (a Content-Length and no body), 204 and a 3 MiB upload (Expect: 100-continue)
    on one kept connection: a framing error would corrupt the next response."""
    s3 = _s3(aws)
    s3.create_bucket(Bucket="framing")
    s3.put_object(Bucket="framing", Key="k", Body=b"x" * 5000)
    for _ in range(3):
        assert s3.head_object(Bucket="framing", Key="k")["ContentLength"] == 5000
    assert s3.delete_object(Bucket="framing", Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    big = bytes(range(256)) * (3 * 4096)
    s3.put_object(Bucket="framing", Key="big", Body=big)
    assert s3.get_object(Bucket="framing", Key="big")["Body"].read() == big


def test_metadata_names_with_underscores_keep_their_signature(aws: LocalAWS) -> None:
    # boto3 signs `x-amz-meta-my_key` as sent; the gateway must rebuild that name, not
    # `X-Amz-Meta-My-Key`, or the signature would not verify (SignatureDoesNotMatch).
    s3 = _s3(aws)
    s3.create_bucket(Bucket="underscore-metadata")
    s3.put_object(
        Bucket="underscore-metadata", Key="k", Body=b"x", Metadata={"my_key": "v", "plain": "w"}
    )
    head = s3.head_object(Bucket="underscore-metadata", Key="k")
    assert head["Metadata"] == {"my_key": "v", "plain": "w"}
