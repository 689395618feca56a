"""Conditions moto ignores, and bodies moto cannot decode.

S3's conditional requests guard data: a client that sends ``If-None-Match: *`` on a copy, or
``x-amz-if-match-size`` on a delete, relies on S3 refusing the write when the condition fails
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html). moto
5.2.x does not read these headers (moto/s3/responses.py): it overwrote and deleted the
object. They are refused as not supported (the object left as it was); the conditions moto
does check keep working.

moto decodes the body of every non-S3 request as UTF-8 (moto/core/responses.py
``setup_class``): a UTF-16 JSON body was a 500. It is refused as AWS refuses a body it
cannot deserialize.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.auth
import botocore.session
import pytest
import urllib3
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError
from tests.local_helpers import World, make_bucket

from crosstrack.local import LocalAWS

BUCKET = "conditions-bucket"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with LocalAWS(tmp_path_factory.mktemp("conditions")) as aws:
        world = World.of(aws)
        make_bucket(aws, BUCKET)
        world.add_user("lister", {"Effect": "Allow", "Action": "kms:ListKeys", "Resource": "*"})
        yield world


@pytest.fixture
def s3(world: World) -> Any:
    client = world.client("operator", "s3")
    client.put_object(Bucket=BUCKET, Key="keep", Body=b"original")
    client.put_object(Bucket=BUCKET, Key="src", Body=b"other")
    return client


def _kept(s3: Any) -> bytes:
    return bytes(s3.get_object(Bucket=BUCKET, Key="keep")["Body"].read())


def _refused(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(Bucket=BUCKET, **kwargs)
    error: dict[str, Any] = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error["Code"] == "NotImplemented"
    assert "not supported by the local AWS" in error["Message"]
    return error


def test_a_conditional_copy_is_refused_not_run_unconditionally(s3: Any) -> None:
    for condition in ({"IfNoneMatch": "*"}, {"IfMatch": '"0123"'}):
        error = _refused(s3.copy_object, Key="keep", CopySource=f"{BUCKET}/src", **condition)
        assert "If-" in error["Message"]
    assert _kept(s3) == b"original"


def test_a_delete_conditional_on_size_or_time_is_refused(s3: Any) -> None:
    _refused(s3.delete_object, Key="keep", IfMatchSize=999)
    _refused(s3.delete_object, Key="keep", IfMatchLastModifiedTime="2001-01-01T00:00:00Z")
    assert _kept(s3) == b"original"


def test_a_conditional_delete_objects_entry_is_refused(s3: Any) -> None:
    for condition in ({"ETag": '"0123"'}, {"Size": 999}):
        _refused(s3.delete_objects, Delete={"Objects": [{"Key": "keep", **condition}]})
    assert _kept(s3) == b"original"


def test_conditions_moto_does_not_check_on_uploads_are_refused(s3: Any) -> None:
    _refused(s3.put_object, Key="keep", Body=b"x", IfNoneMatch='"0123"')
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="keep")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="keep", UploadId=upload, PartNumber=1, Body=b"x")
    parts = {"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]}
    _refused(
        s3.complete_multipart_upload,
        Key="keep",
        UploadId=upload,
        MultipartUpload=parts,
        IfMatch='"0123"',
    )
    _refused(
        s3.abort_multipart_upload,
        Key="keep",
        UploadId=upload,
        IfMatchInitiatedTime="2001-01-01T00:00:00Z",
    )
    assert _kept(s3) == b"original"
    s3.abort_multipart_upload(Bucket=BUCKET, Key="keep", UploadId=upload)


def test_the_conditions_moto_checks_still_work(s3: Any) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=BUCKET, Key="keep", Body=b"x", IfNoneMatch="*")
    assert caught.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket=BUCKET, Key="keep", IfMatch='"0123"')
    assert caught.value.response["Error"]["Code"] == "PreconditionFailed"
    etag = s3.head_object(Bucket=BUCKET, Key="keep")["ETag"]
    s3.put_object(Bucket=BUCKET, Key="keep", Body=b"next", IfMatch=etag)
    assert _kept(s3) == b"next"


@pytest.mark.parametrize(
    "body", [json.dumps({}).encode("utf-16"), b"\xff\xfe", b'{"Limit": "\xe9"}']
)
def test_a_json_body_that_is_not_utf8_is_a_serialization_error(world: World, body: bytes) -> None:
    request = AWSRequest(
        method="POST",
        url=f"{world.aws.endpoint}/",
        data=body,
        headers={
            "X-Amz-Target": "TrentService.ListKeys",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    botocore.auth.SigV4Auth(world.keys["lister"], "kms", "us-east-1").add_auth(request)
    prepared = request.prepare()
    before = len(world.audit())
    response = urllib3.PoolManager(ca_certs=str(world.aws.ca_bundle)).request(
        "POST", prepared.url, body=body, headers=dict(prepared.headers), retries=False
    )
    assert response.status == 400, response.data
    assert json.loads(response.data)["__type"] == "SerializationException"
    assert [e["decision"] for e in world.audit()[before:]] == ["rejected"]
