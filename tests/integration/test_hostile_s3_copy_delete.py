"""S3 inputs that moto reads differently from the authorization: a copy source and the
DeleteObjects body.

moto reads ``x-amz-copy-source`` with ``urlparse`` (moto/s3/responses.py, CopyObject and
UploadPartCopy): a ``#fragment``, a ``;params`` suffix or a ``scheme://host/`` prefix are cut
off before it takes the bucket and key, while the authorization read the header as it was.
A caller whose policy denies ``victim/secret`` copied it out as ``victim/secret#x``. moto
reads the DeleteObjects body with xmltodict, which fails (HTTP 500) on a namespace prefix, a
repeated ``<Key>`` or a key with child elements. Every such request is now either refused
as S3 refuses it or served exactly as decided.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from tests.local_helpers import World, make_bucket, policy

from crosstrack.local import LocalAWS

VICTIM = "victim-bucket"
MINE = "copier-bucket"
SECRET = b"TOP SECRET"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with LocalAWS(tmp_path_factory.mktemp("hostile-s3")) as aws:
        world = World.of(aws)
        make_bucket(aws, VICTIM, {"secret": SECRET})
        make_bucket(aws, MINE)
        world.add_user(
            "copier",
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
                "Resource": "*",
            },
        )
        world.client("operator", "iam").put_user_policy(
            UserName="copier",
            PolicyName="not-the-secret",
            PolicyDocument=policy(
                {
                    "Effect": "Deny",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{VICTIM}/secret", f"arn:aws:s3:::{VICTIM}/a\rb"],
                }
            ),
        )
        yield world


def _copied(world: World) -> bytes | None:
    s3 = world.client("operator", "s3")
    try:
        data = bytes(s3.get_object(Bucket=MINE, Key="copy")["Body"].read())
    except ClientError:
        return None
    s3.delete_object(Bucket=MINE, Key="copy")
    return data


def _code(data: bytes) -> str:
    return data.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode()


def test_a_denied_copy_source_is_refused(world: World) -> None:
    response = world.send(
        "copier", "PUT", f"/{MINE}/copy", headers={"x-amz-copy-source": f"{VICTIM}/secret"}
    )
    assert response.status == 403
    assert _copied(world) is None


@pytest.mark.parametrize(
    "source",
    [
        f"/{VICTIM}/secret#x",  # moto drops the fragment
        f"{VICTIM}/secret;p",  # moto drops ;params of the last segment
        f"http://elsewhere/{VICTIM}/secret",  # moto takes the URL's path
        f"{VICTIM}/secret?versionId=a&versionId=b",  # moto the first, a loop the last
        f"{VICTIM}/secret?versionId=a&other=b",
    ],
)
@pytest.mark.parametrize("operation", ["CopyObject", "UploadPartCopy"])
def test_a_copy_source_moto_would_read_otherwise_is_invalid_argument(
    world: World, source: str, operation: str
) -> None:
    path = f"/{MINE}/copy"
    if operation == "UploadPartCopy":
        upload = world.client("copier", "s3").create_multipart_upload(Bucket=MINE, Key="copy")
        path += f"?partNumber=1&uploadId={upload['UploadId']}"
    before = world.aws.audit_log.read_text().count("\n")
    response = world.send("copier", "PUT", path, headers={"x-amz-copy-source": source})
    assert (response.status, _code(response.data)) == (400, "InvalidArgument"), response.data
    assert b"x-amz-copy-source" in response.data
    assert b"TOP SECRET" not in response.data
    assert [e["decision"] for e in world.audit()[before:]] == ["rejected"]
    assert _copied(world) is None


def test_a_legitimate_copy_still_works(world: World) -> None:
    s3 = world.client("operator", "s3")
    s3.put_object(Bucket=VICTIM, Key="dir/a b+c.txt", Body=b"public")
    world.client("copier", "s3").copy_object(
        Bucket=MINE, Key="copy", CopySource={"Bucket": VICTIM, "Key": "dir/a b+c.txt"}
    )
    assert _copied(world) == b"public"


def _delete(world: World, body: bytes) -> tuple[int, bytes]:
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    response = world.send(
        "copier", "POST", f"/{VICTIM}?delete", body=body, headers={"Content-MD5": md5}
    )
    return response.status, response.data


def _keys(world: World) -> list[str]:
    listed = world.client("operator", "s3").list_objects_v2(Bucket=VICTIM).get("Contents", [])
    return sorted(str(o["Key"]) for o in listed)


@pytest.mark.parametrize(
    "body",
    [
        b"<Delete><Object><Key>scratch</Key><Key>secret</Key></Object></Delete>",
        b"<Delete><Object><Key>secret</Key><Key>scratch</Key></Object></Delete>",
        b"<Delete><Object><Key>scr<b/>atch</Key></Object></Delete>",
        b"<Delete><Object><Key>scr<b>x</b>atch</Key></Object></Delete>",
        b"<Delete><Object><Key>scratch</Key><VersionId>1</VersionId><VersionId>2</VersionId></Object></Delete>",
    ],
)
def test_a_delete_body_moto_cannot_read_as_decided_is_malformed_xml(
    world: World, body: bytes
) -> None:
    world.client("operator", "s3").put_object(Bucket=VICTIM, Key="scratch", Body=b"x")
    before = _keys(world)
    status, data = _delete(world, body)
    assert (status, _code(data)) == (400, "MalformedXML"), data
    assert _keys(world) == before


def test_a_namespace_prefixed_delete_body_is_served_as_decided(world: World) -> None:
    world.client("operator", "s3").put_object(Bucket=VICTIM, Key="scratch", Body=b"x")
    body = (
        b'<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<s3:Object><s3:Key>scratch</s3:Key></s3:Object>"
        b"<s3:Object><s3:Key>secret</s3:Key></s3:Object></s3:Delete>"
    )
    status, data = _delete(world, body)
    assert status == 200, data
    assert b"<Deleted><Key>scratch</Key></Deleted>" in data
    assert b"<Key>secret</Key><Code>AccessDenied</Code>" in data
    assert "scratch" not in _keys(world)
    assert "secret" in _keys(world)
