"""Reading the log from S3 and following it: moto in-process, the reporter's own Ledger writes.

moto answers a GetObject with ``If-None-Match`` of the current ETag with 304 (checked
below, as the follower relies on it); the clock and the sleep are injected, so following
across midnight takes no real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from logdata import live, positions
from moto import mock_aws

from crosstrack.errors import InputError
from crosstrack.logbook.errors import LogNotFoundError
from crosstrack.logbook.follow import Follower
from crosstrack.logbook.read import read_bucket
from crosstrack.logbook.select import Selection
from crosstrack.logbook.source import (
    LogLocation,
    S3Log,
    location_from_outputs,
    resolve_location,
)
from crosstrack.reporter.ledger import Ledger
from crosstrack.reporter.positions import Position

BUCKET = "iss-reporting-test"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_moto_answers_if_none_match_with_304(s3: Any) -> None:
    etag = s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")["ETag"]
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=BUCKET, Key="k", IfNoneMatch=etag)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304


def _write(ledger: Ledger, position: Position, when: datetime | None = None) -> None:
    ledger.append(position, event_id=f"{position.time.isoformat()}", event_time=when)


def test_single_object_text_format(s3: Any) -> None:
    ledger = Ledger(s3, BUCKET, "iss_position.txt")
    for p in positions(3):
        _write(ledger, p)
    log = S3Log(s3, LogLocation(BUCKET, "iss_position.txt", "single"))
    records = read_bucket(log, Selection(), datetime.now(UTC), warnings := [])  # type: ignore[var-annotated]
    assert [r.time for r in records] == [p.time for p in positions(3)]
    assert warnings == []


def test_daily_layout_reads_the_window_oldest_day_first(s3: Any) -> None:
    ledger = Ledger(s3, BUCKET, "logs/iss.jsonl", log_format="jsonl", layout="daily")
    days = positions(4, step_minutes=60 * 24)  # one record on each of four days
    for p in reversed(days):
        _write(ledger, p)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == [f"logs/iss/2025/11/{d}.jsonl" for d in (10, 11, 12, 13)]
    log = S3Log(s3, LogLocation(BUCKET, "logs/iss.jsonl", "daily"))
    now = days[-1].time + timedelta(hours=1)
    since = Selection.from_flags(days[1].time.isoformat(), None, None, now=now)
    assert [r.time for r in read_bucket(log, since, now, print)] == [p.time for p in days[1:]]
    everything = read_bucket(log, Selection(), now, print)  # default window: 7 days
    assert [r.source for r in everything] == ["tle"] * 4


def test_daily_layout_without_list_permission_reads_each_day_by_key(s3: Any) -> None:
    ledger = Ledger(s3, BUCKET, "iss_position.txt", layout="daily")
    days = positions(3, step_minutes=60 * 24)
    for p in days:
        _write(ledger, p)

    def deny_list(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied"}}, "ListObjectsV2")

    log = S3Log(s3, LogLocation(BUCKET, "iss_position.txt", "daily"))
    s3.meta.events.register("before-call.s3.ListObjectsV2", deny_list)
    now = days[-1].time + timedelta(days=2)  # two days with no object at the end
    assert len(read_bucket(log, Selection(), now, print)) == 3


def test_missing_single_object_is_a_clear_error(s3: Any) -> None:
    log = S3Log(s3, LogLocation(BUCKET, "nothing.txt", "single"))
    with pytest.raises(LogNotFoundError, match=r"s3://iss-reporting-test/nothing.txt does not"):
        read_bucket(log, Selection(), datetime.now(UTC), print)


def test_location_from_flags_env_and_terraform_outputs() -> None:
    env = {"BUCKET_NAME": "from-env", "LOG_LAYOUT": "daily", "OBJECT_KEY": "a/b.txt"}
    loc = resolve_location(bucket=None, key=None, layout=None, region=None, env=env, infra=None)
    assert loc == LogLocation("from-env", "a/b.txt", "daily")
    assert loc.key_for(datetime(2026, 11, 27, tzinfo=UTC).date()) == "a/b/2026/11/27.txt"
    flags = resolve_location(
        bucket="flag", key="k.txt", layout="single", region="eu-west-1", env=env, infra=None
    )
    assert flags == LogLocation("flag", "k.txt", "single", "eu-west-1")
    with pytest.raises(InputError, match="no log to read"):
        resolve_location(bucket=None, key=None, layout=None, region=None, env={}, infra=None)
    with pytest.raises(InputError, match="layout"):
        resolve_location(bucket="b", key=None, layout="weekly", region=None, env={}, infra=None)
    # The outputs infra/outputs.tf declares, as `terraform output -json` gives their values.
    single = {
        "bucket_name": "iss-reporting-2025",
        "read_log_command": "aws s3 cp s3://iss-reporting-2025/iss_position.txt - "
        "--profile account-b",
    }
    assert location_from_outputs(single) == ("iss-reporting-2025", "iss_position.txt", "single")
    daily = {
        "bucket_name": "iss-reporting-2025",
        "read_log_command": "aws s3 ls s3://iss-reporting-2025/logs/iss_position/ "
        "--recursive --profile account-b",
    }
    assert location_from_outputs(daily) == ("iss-reporting-2025", "logs/iss_position.txt", "daily")
    # The key and layout outputs say it exactly: a daily log with another suffix is found too.
    exact = {**daily, "object_key": "logs/iss_position.jsonl", "log_layout": "daily"}
    assert location_from_outputs(exact) == (
        "iss-reporting-2025",
        "logs/iss_position.jsonl",
        "daily",
    )
    # Malformed values fall back to the command (never a guess from half an answer).
    odd = {**single, "object_key": "", "log_layout": "weekly"}
    assert location_from_outputs(odd) == ("iss-reporting-2025", "iss_position.txt", "single")


# ------------------------------------------------------------------- --follow


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_follow_single_object_sees_new_records_once_and_polls_with_304(s3: Any) -> None:
    ledger = Ledger(s3, BUCKET, "iss_position.txt")
    items = positions(5)
    _write(ledger, items[0])
    clock = Clock(items[0].time)
    warnings: list[str] = []
    follower = Follower(
        S3Log(s3, LogLocation(BUCKET, "iss_position.txt", "single")),
        clock=clock,
        warn=warnings.append,
    )
    assert [r.time for r in follower.poll()] == [items[0].time]
    assert follower.poll() == []
    assert follower.not_modified == 1  # the second poll cost a 304, no body
    _write(ledger, items[1])
    _write(ledger, items[2])
    assert [r.time for r in follower.poll()] == [items[1].time, items[2].time]
    assert follower.poll() == []
    sleeps: list[float] = []
    _write(ledger, items[3])
    batches = list(follower.run(sleep=sleeps.append, interval=30, polls=3))
    assert [[r.time for r in b] for b in batches] == [[items[3].time], [], []]
    assert sleeps == [30, 30, 30]
    assert warnings == []


def test_follow_daily_layout_across_midnight_nothing_twice(s3: Any) -> None:
    ledger = Ledger(s3, BUCKET, "iss_position.txt", log_format="jsonl", layout="daily")
    day1 = datetime(2025, 11, 10, 23, 50, tzinfo=UTC)
    p = [live(x) for x in positions(6, start=day1)]  # 23:50, 23:55, 00:00, 00:05, ...
    clock = Clock(day1)
    follower = Follower(
        S3Log(s3, LogLocation(BUCKET, "iss_position.txt", "daily")), clock=clock, warn=print
    )
    assert follower.poll() == []  # today's object does not exist yet
    _write(ledger, p[0])
    assert [r.time for r in follower.poll()] == [p[0].time]
    # 00:02: a new day. The 23:55 event, retried late, lands in yesterday's object; the
    # 00:00 record opens today's.
    clock.now = datetime(2025, 11, 11, 0, 2, tzinfo=UTC)
    _write(ledger, p[2])
    _write(ledger, p[1], when=p[1].time)
    assert follower.watched(clock.now) == [
        "iss_position/2025/11/10.txt",
        "iss_position/2025/11/11.txt",
    ]
    got = follower.poll()
    assert [r.time for r in got] == [p[1].time, p[2].time]
    assert follower.poll() == []
    # After the grace period only today's object is polled.
    clock.now = datetime(2025, 11, 11, 0, 40, tzinfo=UTC)
    assert follower.watched(clock.now) == ["iss_position/2025/11/11.txt"]
    _write(ledger, p[3])
    _write(ledger, p[4])
    assert [r.time for r in follower.poll()] == [p[3].time, p[4].time]
    requests = follower.requests
    assert follower.poll() == []
    assert follower.requests == requests + 1  # one conditional GET per poll


def test_follow_reports_garbage_once_and_survives_a_rewrite(s3: Any) -> None:
    key = "iss_position.txt"
    s3.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=b'{"time":"2025-11-10T06:00:00Z","latitude":1,"longitude":2}\nnoise\n',
    )
    warnings: list[str] = []
    follower = Follower(
        S3Log(s3, LogLocation(BUCKET, key, "single")),
        clock=Clock(datetime.now(UTC)),
        warn=warnings.append,
    )
    assert len(follower.poll()) == 1
    assert warnings == [f"s3://{BUCKET}/{key}:2: not a log record: 'noise'"]
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=body + b'{"time":"2025-11-10T06:05:00Z","latitude":3,"longitude":4}\n',
    )
    assert [r.latitude for r in follower.poll()] == [3.0]
    assert len(warnings) == 1  # the old garbage line is not reported again
    # Someone rewrites the object from scratch with an old and a new record.
    s3.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=b'{"time":"2025-11-10T06:00:00Z","latitude":1,"longitude":2}\n'
        b'{"time":"2025-11-10T06:10:00Z","latitude":5,"longitude":6}\n',
    )
    assert [r.latitude for r in follower.poll()] == [5.0]
    assert "was rewritten" in warnings[-1]


def test_follow_says_once_when_the_object_is_deleted_and_resumes_when_it_is_back(
    s3: Any,
) -> None:
    ledger = Ledger(s3, BUCKET, "iss_position.txt")
    items = positions(3)
    _write(ledger, items[0])
    warnings: list[str] = []
    follower = Follower(
        S3Log(s3, LogLocation(BUCKET, "iss_position.txt", "single")),
        clock=Clock(items[0].time),
        warn=warnings.append,
    )
    assert [r.time for r in follower.poll()] == [items[0].time]
    s3.delete_object(Bucket=BUCKET, Key="iss_position.txt")
    assert follower.poll() == []
    assert follower.poll() == []
    assert len(warnings) == 1
    assert "deleted" in warnings[0]
    _write(ledger, items[1])  # the reporter starts a new object
    assert [r.time for r in follower.poll()] == [items[1].time]
