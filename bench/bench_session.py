"""Benchmark 2: STS AssumeRole calls, original (assume per call) vs crosstrack (cached).

* 100 warm invocations back to back (real clock): each one gets role-B credentials and
  appends a record to the log.
* One simulated day on the 5-minute schedule (288 invocations), with an injected clock
  that both crosstrack's refreshable credentials and moto's STS follow (moto stamps
  ``Expiration`` with ``moto.sts.models.utcnow``, which is patched to the same clock, so
  the keys really "expire" on the simulated timeline).

AWS is moto in-process (``mock_aws``): the count is what matters, not the latency.
AssumeRole calls are counted independently of crosstrack's own ``sts_calls``, by a
botocore ``before-call.sts.AssumeRole`` hook on the calling account's session.

    python bench/bench_session.py    # prints a markdown table, writes bench/results/session.json
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import moto.sts.models
from moto import mock_aws

from baseline import original_invocation
from crosstrack.reporter.ledger import HEADER, Ledger
from crosstrack.reporter.positions import Position
from crosstrack.reporter.session import CrossAccountSessions, role_session_name

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
BUCKET = "iss-reporting-bench"
WARM = 100
DAY = 288  # 24 h / 5 min
STEP = timedelta(minutes=5)


class SimClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class Counter:
    """Counts AssumeRole requests made by clients of a session."""

    def __init__(self, events: Any) -> None:
        self.calls = 0
        events.register("before-call.sts.AssumeRole", self._count)

    def _count(self, **_: Any) -> None:
        self.calls += 1


@contextmanager
def moto_sts_follows(clock: SimClock) -> Iterator[None]:
    """Make moto's STS compute expirations on the simulated clock (fails loudly if moved)."""
    original = moto.sts.models.utcnow  # AttributeError here = the seam moved: re-check it
    moto.sts.models.utcnow = lambda: clock().astimezone(UTC).replace(tzinfo=None)
    try:
        yield
    finally:
        moto.sts.models.utcnow = original


def position(when: datetime, i: int) -> Position:
    return Position(time=when, latitude=(i % 90) * 0.5, longitude=(i % 180) - 90.0, source="tle")


def crosstrack_run(role_arn: str, key: str, n: int, clock: SimClock | None) -> dict[str, Any]:
    source = botocore.session.Session()
    counted = Counter(source)
    sessions = (
        CrossAccountSessions(source=source, clock=clock)
        if clock
        else CrossAccountSessions(source=source)
    )
    started = time.perf_counter()
    for i in range(n):
        now = clock() if clock else datetime.now(UTC)
        s3 = sessions.s3(
            role_arn, session_name=role_session_name("crosstrack", f"req-{i}"), region=REGION
        )
        Ledger(s3, BUCKET, key).append(position(now, i), event_id=f"{key}-{i}")
        if clock:
            clock.now += STEP
    assert counted.calls == sessions.sts_calls, (counted.calls, sessions.sts_calls)
    return {"sts_calls": counted.calls, "seconds": round(time.perf_counter() - started, 2)}


def baseline_run(role_arn: str, key: str, n: int, clock: SimClock | None) -> dict[str, Any]:
    source = boto3.Session()
    counted = Counter(source.events)
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key=key, Body=HEADER.encode())  # its Terraform's header
    started = time.perf_counter()
    for i in range(n):
        now = clock() if clock else datetime.now(UTC)
        original_invocation(source, role_arn, BUCKET, key, REGION, position(now, i))
        if clock:
            clock.now += STEP
    return {"sts_calls": counted.calls, "seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    with mock_aws():
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ],
        }
        role_arn: str = boto3.client("iam", region_name=REGION).create_role(
            RoleName="access-s3-bucket", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)

        warm = {
            "invocations": WARM,
            "baseline": baseline_run(role_arn, "warm/baseline.txt", WARM, None),
            "crosstrack": crosstrack_run(role_arn, "warm/crosstrack.txt", WARM, None),
        }
        start = datetime.now(UTC).replace(second=0, microsecond=0)
        day_clock = SimClock(start)
        with moto_sts_follows(day_clock):
            crosstrack_day = crosstrack_run(role_arn, "day/crosstrack.txt", DAY, day_clock)
            day_clock.now = start
            baseline_day = baseline_run(role_arn, "day/baseline.txt", DAY, day_clock)
        day = {
            "invocations": DAY,
            "simulated_minutes": DAY * 5,
            "baseline": baseline_day,
            "crosstrack": crosstrack_day,
        }

    ct_warm, ct_day = warm["crosstrack"]["sts_calls"], day["crosstrack"]["sts_calls"]
    minutes_per_call = (DAY * 5) / ct_day
    result = {
        "warm_back_to_back": warm,
        "simulated_day": day,
        "crosstrack_simulated_minutes_per_sts_call": round(minutes_per_call, 1),
        "targets": {
            "at_most_1_per_100_warm": ct_warm <= 1,
            "at_most_1_per_45_simulated_minutes": minutes_per_call >= 45,
        },
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "session.json").write_text(json.dumps(result, indent=2) + "\n")

    b_warm, b_day = warm["baseline"]["sts_calls"], day["baseline"]["sts_calls"]
    print("| STS AssumeRole calls | original | crosstrack | ratio |")
    print("|---|---|---|---|")
    print(
        f"| per {WARM} warm invocations back to back | {b_warm} | {ct_warm} "
        f"| {b_warm / max(ct_warm, 1):.0f}x fewer |"
    )
    print(
        f"| per simulated day, 5-minute schedule ({DAY} invocations) | {b_day} | {ct_day} "
        f"(one per {minutes_per_call:.0f} min) | {b_day / max(ct_day, 1):.1f}x fewer |"
    )


if __name__ == "__main__":
    main()
