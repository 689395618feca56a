"""S3 checks the signing region against the bucket's region, as AWS does.

A request for an existing bucket signed for another region is answered 400
``AuthorizationHeaderMalformed`` (``AuthorizationQueryParametersError`` for a presigned URL)
naming the region it expected, in the message, a ``<Region>`` element and the
``x-amz-bucket-region`` header — the answer SDKs read to retry in the right region. Nothing
is read or written. ListBuckets, CreateBucket and GetBucketLocation are not tied to one
bucket's region.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import botocore.auth
import pytest
import urllib3
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from tests.local_helpers import client, make_bucket, operator_credentials

from crosstrack.local import LocalAWS

EAST = "region-check-east"
WEST = "region-check-west"
KEY = "object.txt"
ORIGINAL = b"original\n"


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    with LocalAWS(tmp_path_factory.mktemp("bucket-region")) as running:
        make_bucket(running, EAST, {KEY: ORIGINAL})
        make_bucket(running, WEST, {KEY: ORIGINAL}, region="us-west-2")
        yield running


def _send(
    aws: LocalAWS, method: str, path: str, region: str, body: bytes = b""
) -> urllib3.BaseHTTPResponse:
    """A request signed by botocore's S3 signer for ``region``, sent once (no SDK redirect)."""
    request = AWSRequest(method=method, url=f"{aws.endpoint}{path}", data=body)
    botocore.auth.S3SigV4Auth(operator_credentials(aws), "s3", region).add_auth(request)
    prepared = request.prepare()
    pool = urllib3.PoolManager(ca_certs=str(aws.ca_bundle))
    return pool.request(
        method, prepared.url, body=body, headers=dict(prepared.headers), retries=False
    )


def _presigned(aws: LocalAWS, method: str, path: str, region: str) -> urllib3.BaseHTTPResponse:
    request = AWSRequest(method=method, url=f"{aws.endpoint}{path}")
    request.context["timestamp"] = None
    botocore.auth.S3SigV4QueryAuth(operator_credentials(aws), "s3", region, expires=300).add_auth(
        request
    )
    pool = urllib3.PoolManager(ca_certs=str(aws.ca_bundle))
    return pool.request(method, request.url, retries=False)


def _stored(aws: LocalAWS, bucket: str, region: str) -> bytes:
    return bytes(client(aws, "s3", region=region).get_object(Bucket=bucket, Key=KEY)["Body"].read())


def _between(text: str, tag: str) -> str:
    return text.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]


@pytest.mark.parametrize(
    ("bucket", "signed", "expected"),
    [(EAST, "us-west-2", "us-east-1"), (WEST, "us-east-1", "us-west-2")],
)
def test_a_request_signed_for_another_region_is_refused(
    aws: LocalAWS, bucket: str, signed: str, expected: str
) -> None:
    response = _send(aws, "GET", f"/{bucket}/{KEY}", signed)
    text = response.data.decode()
    assert response.status == 400, text
    assert _between(text, "Code") == "AuthorizationHeaderMalformed"
    assert _between(text, "Message") == (
        f"The authorization header is malformed; the region '{signed}' is wrong; "
        f"expecting '{expected}'"
    )
    assert _between(text, "Region") == expected
    assert response.headers["x-amz-bucket-region"] == expected
    assert ORIGINAL not in response.data


def test_a_write_signed_for_another_region_changes_nothing(aws: LocalAWS) -> None:
    response = _send(aws, "PUT", f"/{EAST}/{KEY}", "eu-west-1", body=b"overwritten")
    assert response.status == 400
    assert _stored(aws, EAST, "us-east-1") == ORIGINAL
    deleted = _send(aws, "DELETE", f"/{WEST}/{KEY}", "us-east-1")
    assert deleted.status == 400
    assert _stored(aws, WEST, "us-west-2") == ORIGINAL


def test_a_head_request_gets_the_region_header(aws: LocalAWS) -> None:
    response = _send(aws, "HEAD", f"/{WEST}", "us-east-1")
    assert response.status == 400
    assert response.headers["x-amz-bucket-region"] == "us-west-2"


def test_a_presigned_url_for_another_region_is_refused(aws: LocalAWS) -> None:
    response = _presigned(aws, "GET", f"/{EAST}/{KEY}", "us-west-2")
    text = response.data.decode()
    assert response.status == 400, text
    assert _between(text, "Code") == "AuthorizationQueryParametersError"
    assert _between(text, "Message") == (
        "Error parsing the X-Amz-Credential parameter; the region 'us-west-2' is wrong; "
        "expecting 'us-east-1'"
    )
    assert _between(text, "Region") == "us-east-1"
    assert _presigned(aws, "GET", f"/{EAST}/{KEY}", "us-east-1").data == ORIGINAL


def test_the_right_region_is_served(aws: LocalAWS) -> None:
    assert _send(aws, "GET", f"/{EAST}/{KEY}", "us-east-1").data == ORIGINAL
    assert _send(aws, "GET", f"/{WEST}/{KEY}", "us-west-2").data == ORIGINAL


def test_buckets_are_listed_and_located_from_any_region(aws: LocalAWS) -> None:
    for region in ("us-east-1", "us-west-2", "ap-southeast-2"):
        listed = _send(aws, "GET", "/", region)
        assert listed.status == 200, listed.data
        assert EAST.encode() in listed.data
        assert WEST.encode() in listed.data
        # GetBucketLocation is how a client learns the region (AWS checks its signing
        # region against the endpoint's, and the local endpoint serves every region).
        located = _send(aws, "GET", f"/{WEST}?location", region)
        assert located.status == 200, located.data
        assert b"us-west-2" in located.data


def test_boto3_follows_the_region_s3_names(aws: LocalAWS) -> None:
    # botocore reads the expected region from the 400 and retries there, as against AWS.
    wrong = boto3.client(
        "s3",
        endpoint_url=aws.endpoint,
        verify=str(aws.ca_bundle),
        region_name="eu-central-1",
        aws_access_key_id=aws.operator.access_key_id,
        aws_secret_access_key=aws.operator.secret_access_key,
        config=Config(s3={"addressing_style": "path"}),
    )
    assert wrong.get_object(Bucket=WEST, Key=KEY)["Body"].read() == ORIGINAL


def test_the_refusal_is_audited(aws: LocalAWS) -> None:
    _send(aws, "GET", f"/{EAST}/{KEY}", "sa-east-1")
    lines = [json.loads(line) for line in aws.audit_log.read_text().splitlines()]
    refused = [
        line
        for line in lines
        if line.get("decision") == "rejected" and "'sa-east-1' is wrong" in line.get("detail", "")
    ]
    assert refused, lines[-3:]
