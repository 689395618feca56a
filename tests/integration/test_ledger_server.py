"""The ledger and the cross-account session over real HTTP, against a two-account moto server.

Role A (account 111111111111) assumes role B (222222222222) and appends to the versioned
bucket in account B, exactly as deployed. Concurrency runs real threads through real
HTTP connections, so conditional-write races are the server's, not a mock's.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from crosstrack.reporter.errors import CredentialsError, LogAccessDeniedError, LogCorruptError
from crosstrack.reporter.ledger import HEADER, Ledger, format_text_record
from crosstrack.reporter.positions import Position
from crosstrack.reporter.session import CrossAccountSessions, s3_client

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
RECORD = re.compile(r"Time: [^\n]+\nLatitude: [^\n]+\nLongitude: [^\n]+\n\n")


def position(i: int) -> Position:
    # Distinct, valid coordinates per writer, so a lost or doubled record is visible.
    return Position(
        time=T0 + timedelta(seconds=i),
        latitude=-51.0 + i * 0.5,
        longitude=-179.0 + i * 1.25,
        source="open-notify",
    )


def role_b_s3(two_accounts, sessions: CrossAccountSessions | None = None):
    """An S3 client acting as role B, obtained the way the reporter does it (via role A)."""
    sessions = sessions or CrossAccountSessions(
        source=two_accounts.role_a_botocore_session(), sts_region=two_accounts.region
    )
    session = sessions.session(two_accounts.role_b_arn, session_name="crosstrack-test")
    return s3_client(session, two_accounts.region)


def test_cross_account_chain_creates_the_log_in_account_b(two_accounts) -> None:
    sessions = CrossAccountSessions(
        source=two_accounts.role_a_botocore_session(), sts_region=two_accounts.region
    )
    session = sessions.session(two_accounts.role_b_arn, session_name="crosstrack-req1")
    identity = session.client("sts").get_caller_identity()
    assert identity["Account"] == two_accounts.account_b
    assert identity["Arn"].endswith(":assumed-role/access-s3-bucket/crosstrack-req1")

    ledger = Ledger(
        s3_client(session, two_accounts.region), two_accounts.bucket, "iss_position.txt"
    )
    result = ledger.append(position(0), event_id="evt-1")

    assert result.created
    assert result.version_id  # the bucket is versioned, as deployed
    assert (
        two_accounts.read_object()
        == (
            HEADER + "Time: 2026-11-27 12:00:00\nLatitude: -51.0000\nLongitude: -179.0000\n\n"
        ).encode()
    )
    head = (
        two_accounts.admin_b()
        .client("s3")
        .head_object(Bucket=two_accounts.bucket, Key="iss_position.txt")
    )
    assert head["ContentType"] == "text/plain; charset=utf-8"
    assert sessions.sts_calls == 1


@pytest.mark.parametrize("log_format", ["text", "jsonl"])
def test_concurrent_appenders_lose_nothing_and_duplicate_nothing(two_accounts, log_format) -> None:
    writers = 10
    s3 = role_b_s3(two_accounts)
    start = threading.Barrier(writers)
    results: dict[int, object] = {}

    def write(i: int) -> None:
        # One client per thread (as separate Lambda containers would have), same object.
        ledger = Ledger(s3, two_accounts.bucket, "iss_position.txt", log_format=log_format)
        start.wait()
        try:
            results[i] = ledger.append(position(i), event_id=f"evt-{i}")
        except Exception as exc:  # recorded and asserted below
            results[i] = exc

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    failures = {i: r for i, r in results.items() if isinstance(r, Exception)}
    assert not failures
    assert sum(r.created for r in results.values()) == 1
    assert max(r.attempts for r in results.values()) > 1  # there was contention

    text = two_accounts.read_object().decode()
    if log_format == "text":
        assert text.startswith(HEADER)
        records = RECORD.findall(text[len(HEADER) :])
        assert "".join(records) == text[len(HEADER) :]  # nothing but whole records
        expected = {format_text_record(position(i)) for i in range(writers)}
    else:
        records = [line + "\n" for line in text.splitlines()]
        assert {json.loads(r)["event_id"] for r in records} == {f"evt-{i}" for i in range(writers)}
        expected = {
            Ledger(s3, "b", "k", log_format="jsonl").format_record(position(i), f"evt-{i}")
            for i in range(writers)
        }
    assert len(records) == writers
    assert set(records) == expected


def test_replayed_event_across_containers_is_recorded_once(two_accounts) -> None:
    first = Ledger(role_b_s3(two_accounts), two_accounts.bucket, "iss_position.txt")
    second = Ledger(role_b_s3(two_accounts), two_accounts.bucket, "iss_position.txt")

    one = first.append(position(1), event_id="sched-exec-42")
    again = second.append(position(2), event_id="sched-exec-42")

    assert not one.duplicate
    assert again.duplicate
    assert (again.etag, again.version_id) == (one.etag, one.version_id)  # the recorded write
    assert again.bytes_written == 0
    assert two_accounts.read_object().count(b"Time: ") == 1


def test_get_denied_by_bucket_policy_is_a_permission_error_and_writes_nothing(two_accounts) -> None:
    admin_s3 = two_accounts.admin_b().client("s3")
    original = (
        HEADER.encode() + b"Time: 2025-12-06 17:19:45\nLatitude: -50.5587\nLongitude: 122.1887\n\n"
    )
    admin_s3.put_object(Bucket=two_accounts.bucket, Key="iss_position.txt", Body=original)
    version_before = admin_s3.head_object(Bucket=two_accounts.bucket, Key="iss_position.txt")[
        "VersionId"
    ]
    admin_s3.put_bucket_policy(
        Bucket=two_accounts.bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{two_accounts.bucket}/*",
                    }
                ],
            }
        ),
    )
    ledger = Ledger(role_b_s3(two_accounts), two_accounts.bucket, "iss_position.txt")

    with pytest.raises(LogAccessDeniedError, match=r"s3:GetObject was denied \(403"):
        ledger.append(position(3), event_id="evt-3")

    admin_s3.delete_bucket_policy(Bucket=two_accounts.bucket)
    versions = admin_s3.list_object_versions(Bucket=two_accounts.bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == [version_before]  # no write of any kind
    assert two_accounts.read_object() == original


def test_corrupt_object_is_left_byte_identical_over_http(two_accounts) -> None:
    admin_s3 = two_accounts.admin_b().client("s3")
    corrupt = b"ISS Location Logs\n===================\n\n\xff\xfe not text"
    admin_s3.put_object(Bucket=two_accounts.bucket, Key="iss_position.txt", Body=corrupt)
    ledger = Ledger(role_b_s3(two_accounts), two_accounts.bucket, "iss_position.txt")

    with pytest.raises(
        LogCorruptError, match=r"iss-reporting-test/iss_position\.txt is not valid UTF-8"
    ):
        ledger.append(position(4))

    assert two_accounts.read_object() == corrupt
    assert len(admin_s3.list_object_versions(Bucket=two_accounts.bucket)["Versions"]) == 1


def test_assume_role_denied_is_a_credentials_error_with_the_aws_message(two_accounts) -> None:
    # Role A's policy allows sts:AssumeRole on role B only. With the server's own IAM checks
    # switched on, assuming any other role is refused by STS with AccessDenied.
    source = two_accounts.role_a_botocore_session()  # keys fetched before auth is on
    sessions = CrossAccountSessions(source=source, sts_region=two_accounts.region)
    other_role = f"arn:aws:iam::{two_accounts.account_b}:role/not-this-one"
    with two_accounts.moto_auth(), pytest.raises(CredentialsError) as caught:
        sessions.session(other_role, session_name="crosstrack-x")
    message = str(caught.value)
    assert f"AssumeRole on {other_role} failed: AccessDenied: " in message
    assert "is not authorized to perform: sts:AssumeRole" in message  # AWS's own words
    assert sessions.sts_calls == 1
