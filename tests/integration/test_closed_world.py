"""The failures of issue 9's "Why", each as a regression test with AWS's exact error code.

Every request goes over HTTPS to a running local AWS, signed by botocore (clients where a
client can send the request, botocore's signer plus urllib3 where it cannot), and every
refused write is checked to have left the object as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.auth
import botocore.session
import pytest
import urllib3
from botocore.exceptions import ClientError
from tests.local_helpers import BUCKET, KEY, ORIGINAL, World, closed_world

from crosstrack.local import LocalAWS
from crosstrack.local.transport.server import MAX_BODY_BYTES


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with LocalAWS(tmp_path_factory.mktemp("closed-world")) as aws:
        world = closed_world(aws, versioned=True)
        world.add_user(
            "lister",
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
        )
        world.add_user(
            "deleter",
            {
                "Effect": "Allow",
                "Action": "s3:DeleteObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
        )
        yield world


def _code(response: urllib3.BaseHTTPResponse) -> str:
    text = response.data.decode()
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else text


# 1 ---------------------------------------------------------------------------------------
def test_a_bucket_post_is_no_listing_and_never_an_upload(world: World) -> None:
    response = world.send(
        "lister",
        "POST",
        f"/{BUCKET}?key={KEY}",
        body=b"overwritten",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert (response.status, _code(response)) == (501, "NotImplemented")
    assert world.object() == ORIGINAL
    refusal = world.audit()[-2]  # the operator's read of the object follows it
    assert refusal["decision"] == "rejected"
    assert refusal["reason"] == "not supported by the local AWS"
    assert not any(
        e.get("action") == "s3:ListBucket" and e.get("principal", "").endswith("user/lister")
        for e in world.audit()
    )


def test_an_unsigned_form_upload_is_not_implemented(world: World) -> None:
    body = (
        b'--x\r\nContent-Disposition: form-data; name="key"\r\n\r\n' + KEY.encode() + b"\r\n"
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'
        b"overwritten\r\n--x--\r\n"
    )
    pool = urllib3.PoolManager(ca_certs=str(world.aws.ca_bundle))
    response = pool.request(
        "POST",
        f"{world.aws.endpoint}/{BUCKET}",
        body=body,
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert (response.status, _code(response)) == (501, "NotImplemented")
    assert world.object() == ORIGINAL


# 2 ---------------------------------------------------------------------------------------
def test_delete_objects_with_a_version_needs_delete_object_version(world: World) -> None:
    s3 = world.client("operator", "s3")
    version = s3.head_object(Bucket=BUCKET, Key=KEY)["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="scratch.txt", Body=b"x")
    result = world.client("deleter", "s3").delete_objects(
        Bucket=BUCKET,
        Delete={"Objects": [{"Key": KEY, "VersionId": version}, {"Key": "scratch.txt"}]},
    )
    assert result["Errors"] == [
        {"Key": KEY, "VersionId": version, "Code": "AccessDenied", "Message": "Access Denied"}
    ]
    assert [d["Key"] for d in result["Deleted"]] == ["scratch.txt"]
    assert s3.get_object(Bucket=BUCKET, Key=KEY, VersionId=version)["Body"].read() == ORIGINAL
    decided = [
        (e["action"], e["decision"]) for e in world.audit() if e.get("note") == "DeleteObjects"
    ]
    assert decided[-2:] == [
        ("s3:DeleteObjectVersion", "implicitDeny"),
        ("s3:DeleteObject", "allowed"),
    ]


def test_an_unparseable_delete_objects_body_is_malformed_xml(world: World) -> None:
    response = world.send(
        "deleter",
        "POST",
        f"/{BUCKET}?delete",
        body=b"<Delete><Object><Key>" + KEY.encode(),
        headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="},
    )
    assert (response.status, _code(response)) == (400, "MalformedXML")
    assert world.object() == ORIGINAL


# 3 ---------------------------------------------------------------------------------------
def test_the_declared_payload_hash_must_match_the_body(world: World) -> None:
    response = world.send(
        "operator",
        "PUT",
        f"/{BUCKET}/{KEY}",
        body=b"AAAA",
        declared=hashlib.sha256(b"AAAA").hexdigest(),
        body_on_wire=b"BBBB",
    )
    assert (response.status, _code(response)) == (400, "XAmzContentSHA256Mismatch")
    assert world.object() == ORIGINAL


def test_a_streaming_trailer_checksum_must_match(world: World) -> None:
    body = b"4\r\nBBBB\r\n0\r\nx-amz-checksum-crc32:" + b"AAAAAA==" + b"\r\n\r\n"
    response = world.send(
        "operator",
        "PUT",
        f"/{BUCKET}/{KEY}",
        body=body,
        declared="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        headers={
            "x-amz-decoded-content-length": "4",
            "x-amz-trailer": "x-amz-checksum-crc32",
            "Content-Encoding": "aws-chunked",
        },
    )
    assert (response.status, _code(response)) == (400, "BadDigest")
    assert world.object() == ORIGINAL


def test_botocore_streaming_put_over_https_still_works(world: World) -> None:
    s3 = world.client("operator", "s3")
    s3.put_object(Bucket=BUCKET, Key="streamed.txt", Body=b"streamed body")
    assert s3.get_object(Bucket=BUCKET, Key="streamed.txt")["Body"].read() == b"streamed body"


# 4 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("s3", lambda c: c.list_objects_v2(Bucket=BUCKET), "RequestTimeTooSkewed"),
        ("sts", lambda c: c.get_caller_identity(), "SignatureDoesNotMatch"),
        ("kms", lambda c: c.list_keys(), "InvalidSignatureException"),
        ("lambda", lambda c: c.list_functions(), "InvalidSignatureException"),
    ],
)
@pytest.mark.parametrize("offset", [dt.timedelta(minutes=-20), dt.timedelta(days=-3)])
def test_a_request_signed_long_ago_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch, service: str, call: Any, code: str, offset: Any
) -> None:
    client = world.client("operator", service)
    signed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) + offset
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: signed_at)
    with pytest.raises(ClientError) as refused:
        call(client)
    error = refused.value.response["Error"]
    assert error["Code"] == code
    if service != "s3":
        assert error["Message"].startswith(
            f"Signature expired: {signed_at:%Y%m%dT%H%M%SZ} is now earlier than"
        )


def test_a_request_signed_ten_minutes_ago_is_accepted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = world.client("operator", "sts")
    signed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: signed_at)
    assert client.get_caller_identity()["Arn"].endswith(":user/operator")


# 5 ---------------------------------------------------------------------------------------
def test_presigned_get_and_put_work_for_a_principal_who_may(world: World) -> None:
    s3 = world.client("operator", "s3", signature_version="s3v4")
    pool = urllib3.PoolManager(ca_certs=str(world.aws.ca_bundle))
    put = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "p.txt"})
    assert pool.request("PUT", put, body=b"presigned").status == 200
    get = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "p.txt"})
    response = pool.request("GET", get)
    assert (response.status, response.data) == (200, b"presigned")


def test_presigned_url_from_the_generated_config_works_as_written(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a user runs after pasting the export lines: no signature_version in code, so
    # the generated config's `s3 = signature_version = s3v4` must make it SigV4.
    for line in world.aws.export_lines():
        name, _, value = line.removeprefix("export ").partition("=")
        monkeypatch.setenv(name, value.strip("'\""))
    s3 = botocore.session.Session().create_client("s3")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY})
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    response = urllib3.PoolManager(ca_certs=str(world.aws.ca_bundle)).request("GET", url)
    assert (response.status, response.data) == (200, ORIGINAL)


def test_presigned_urls_expire_and_live_at_most_seven_days(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = world.client("operator", "s3", signature_version="s3v4")
    pool = urllib3.PoolManager(ca_certs=str(world.aws.ca_bundle))
    params = {"Bucket": BUCKET, "Key": KEY}
    too_long = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=604801)
    response = pool.request("GET", too_long)
    assert (response.status, _code(response)) == (400, "AuthorizationQueryParametersError")
    signed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=2)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: signed_at)
    expired = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=3600)
    response = pool.request("GET", expired)
    assert (response.status, _code(response)) == (403, "AccessDenied")
    assert b"<Message>Request has expired</Message>" in response.data


# 7 ---------------------------------------------------------------------------------------
def test_work_directory_audit_log_and_credentials_are_private(world: World) -> None:
    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(world.aws.workdir) == 0o700
    assert mode(world.aws.audit_log) == 0o600
    assert mode(world.aws.credentials_file) == 0o600


def test_a_body_over_the_limit_is_refused_before_it_is_read(world: World) -> None:
    context = ssl.create_default_context(cafile=str(world.aws.ca_bundle))
    port = int(world.aws.endpoint.rsplit(":", 1)[1])
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    connection.putrequest("PUT", f"/{BUCKET}/{KEY}")
    connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    connection.endheaders(b"x" * 1024)  # far less than declared: nothing waits for the rest
    response = connection.getresponse()
    body = response.read()
    assert response.status == 400
    assert b"<Code>EntityTooLarge</Code>" in body
    assert "close" in {v.strip() for v in str(response.getheader("Connection")).split(",")}
    connection.close()
    assert world.object() == ORIGINAL


def test_signature_version_2_is_refused_as_s3_refuses_it_for_new_buckets(world: World) -> None:
    # botocore presigns S3 URLs with SigV2 unless told s3v4; S3 accepts SigV2 only for
    # buckets created before June 24, 2020.
    s3 = world.client("operator", "s3", signature_version="s3")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY})
    assert "AWSAccessKeyId=" in url
    response = urllib3.PoolManager(ca_certs=str(world.aws.ca_bundle)).request("GET", url)
    assert (response.status, _code(response)) == (400, "InvalidRequest")
    assert b"Please use AWS4-HMAC-SHA256." in response.data


def test_a_foreign_host_is_refused(world: World) -> None:
    response = world.send("operator", "GET", f"/{BUCKET}", headers={"Host": f"{BUCKET}.localhost"})
    assert (response.status, _code(response)) == (501, "NotImplemented")


def test_a_client_cannot_pick_moto_s_account(world: World) -> None:
    s3 = world.client("operator", "s3")

    def pick_account_b(request: Any, **kwargs: Any) -> None:
        request.headers["x-moto-account-id"] = "222222222222"

    s3.meta.events.register("before-sign.s3.ListBuckets", pick_account_b)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert BUCKET in names  # account A's bucket list, not B's


def test_other_services_and_identity_provider_logins_are_not_supported(world: World) -> None:
    with pytest.raises(ClientError) as refused:
        world.client("operator", "dynamodb").list_tables()
    assert refused.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "not supported by the local AWS" in refused.value.response["Error"]["Message"]
    sts = world.client("operator", "sts")
    with pytest.raises(ClientError) as refused:
        sts.assume_role_with_web_identity(
            RoleArn="arn:aws:iam::111111111111:role/any",
            RoleSessionName="web",
            WebIdentityToken="token-from-an-idp",
        )
    assert refused.value.response["Error"]["Code"] == "InvalidAction"
    assert world.audit()[-1]["reason"] == "not supported by the local AWS"


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("s3", lambda c: c.list_buckets()),
        ("sts", lambda c: c.get_caller_identity()),
        ("iam", lambda c: c.list_roles()),
        ("lambda", lambda c: c.list_functions()),
        ("logs", lambda c: c.describe_log_groups()),
        ("cloudwatch", lambda c: c.describe_alarms()),
        ("scheduler", lambda c: c.list_schedules()),
        ("sqs", lambda c: c.list_queues()),
        ("kms", lambda c: c.list_keys()),
        ("events", lambda c: c.list_rules()),
        ("sns", lambda c: c.list_topics()),
    ],
)
def test_every_served_service_is_served_by_moto_once_admitted(
    world: World, service: str, call: Any
) -> None:
    call(world.client("operator", service))


def test_a_lambda_function_can_be_created(world: World) -> None:
    import io
    import zipfile

    iam = world.client("operator", "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="closed-world-fn", AssumeRolePolicyDocument=json.dumps(trust))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("h.py", "def h(event, context):\n    return 1\n")
    created = world.client("operator", "lambda").create_function(
        FunctionName="closed-world-fn",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="h.h",
        Code={"ZipFile": archive.getvalue()},
    )
    assert created["FunctionName"] == "closed-world-fn"


def test_a_signed_post_policy_upload_is_put_object_on_its_key(world: World) -> None:
    pool = urllib3.PoolManager(ca_certs=str(world.aws.ca_bundle))
    for who, expected in (("lister", 403), ("operator", 204)):
        s3 = world.client(who, "s3", signature_version="s3v4")
        post = s3.generate_presigned_post(BUCKET, "form.txt", ExpiresIn=300)
        fields = {**post["fields"], "file": ("form.txt", b"from a form")}
        response = pool.request("POST", post["url"], fields=fields)
        assert response.status == expected, response.data
    stored = world.client("operator", "s3").get_object(Bucket=BUCKET, Key="form.txt")
    assert stored["Body"].read() == b"from a form"
    decided = [e for e in world.audit() if e.get("resource") == f"arn:aws:s3:::{BUCKET}/form.txt"]
    assert [(e["action"], e["decision"]) for e in decided[:2]] == [
        ("s3:PutObject", "implicitDeny"),
        ("s3:PutObject", "allowed"),
    ]


def test_a_post_policy_with_a_forged_signature_is_not_implemented(world: World) -> None:
    s3 = world.client("operator", "s3", signature_version="s3v4")
    post = s3.generate_presigned_post(BUCKET, KEY, ExpiresIn=300)
    fields = {**post["fields"], "x-amz-signature": "0" * 64, "file": ("f", b"overwritten")}
    pool = urllib3.PoolManager(ca_certs=str(world.aws.ca_bundle))
    response = pool.request("POST", post["url"], fields=fields)
    assert (response.status, _code(response)) == (501, "NotImplemented")
    assert world.object() == ORIGINAL
