"""S3 object keys may hold any UTF-8 character, control characters included
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html, "Characters that might
require special handling"): the local AWS stores and serves them as S3 does.

moto routes a request on its decoded path with patterns whose ``.`` stops at a newline, so a
key with ``\\n`` was answered 404 with no error code; moto takes the key itself from the raw,
percent-encoded path, which the routing change does not touch.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.local_helpers import make_bucket

from crosstrack.local import LocalAWS

BUCKET = "odd-keys"
KEYS = ["a\nb", "line\r\nbreak", "tab\there", "new\nline/with/slashes\n", "ünï cödé ✓"]


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with LocalAWS(tmp_path_factory.mktemp("s3-keys")) as aws:
        yield make_bucket(aws, BUCKET)


@pytest.mark.parametrize("key", KEYS)
def test_a_key_with_control_characters_round_trips(s3: object, key: str) -> None:
    body = f"body of {key!r}".encode()
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)  # type: ignore[attr-defined]
    got = s3.get_object(Bucket=BUCKET, Key=key)  # type: ignore[attr-defined]
    assert got["Body"].read() == body
    head = s3.head_object(Bucket=BUCKET, Key=key)  # type: ignore[attr-defined]
    assert head["ContentLength"] == len(body)
    listed = s3.list_objects_v2(Bucket=BUCKET)  # type: ignore[attr-defined]
    assert key in [entry["Key"] for entry in listed["Contents"]]
    s3.delete_object(Bucket=BUCKET, Key=key)  # type: ignore[attr-defined]
    listed = s3.list_objects_v2(Bucket=BUCKET)  # type: ignore[attr-defined]
    assert key not in [entry["Key"] for entry in listed.get("Contents", [])]
