"""Benchmarks 1 and 3: records lost under concurrency; S3 bytes moved per invocation.

Both run against a moto server on 127.0.0.1 (real HTTP, real threads), with the original
algorithm (bench/baseline.py) and crosstrack's ledger in the same process.

1. Records lost with 16 concurrent writers: each round, 16 threads released together by a
   barrier each append one distinct record to a fresh log object; lost = 16 - distinct
   records left in the object. Each crosstrack writer has its own warm session cache (as a
   separate Lambda container would); each baseline writer assumes the role per call.
3. Bytes moved per invocation (GetObject body + PutObject body, over all retries) with 1k,
   10k and 100k records already logged at 5-minute intervals, the invocation landing at
   23:55 UTC (the daily layout's fullest object: 287 records of that day).

    python bench/bench_ledger.py     # prints a markdown table, writes bench/results/ledger.json
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from moto.server import ThreadedMotoServer

from baseline import original_invocation
from crosstrack.reporter.ledger import HEADER, Ledger, format_text_record
from crosstrack.reporter.positions import Position
from crosstrack.reporter.session import CrossAccountSessions, s3_client

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
BUCKET = "iss-reporting-bench"
WRITERS = 16
ROUNDS = 2
SIZES = (1_000, 10_000, 100_000)
INVOKED_AT = datetime(2026, 11, 27, 23, 55, tzinfo=UTC)
STEP = timedelta(minutes=5)


def position(when: datetime, i: int) -> Position:
    return Position(
        time=when,
        latitude=round(-51.6 + (i % 1000) * 0.1, 4),
        longitude=round(-179.9 + (i % 3000) * 0.1, 4),
        source="open-notify",
    )


def setup(endpoint: str) -> str:
    """Role B and the bucket (moto's default account; accounts do not change these figures)."""
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    os.environ.pop("AWS_PROFILE", None)
    iam = boto3.client("iam", region_name=REGION)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    role_arn: str = iam.create_role(
        RoleName="access-s3-bucket", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    return role_arn


def race(invoke: Callable[[int], None]) -> list[BaseException]:
    """Run ``invoke(i)`` for i in 0..WRITERS-1 in threads released together."""
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            invoke(i)
        except Exception as exc:  # counted: a failed writer's record is lost too
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def count_records(s3: Any, key: str, expected: set[str]) -> tuple[int, int]:
    """(distinct expected records present, duplicated records) in the object."""
    text = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    blocks = [b for b in text.split("\n\n") if b.startswith("Time: ")]
    present = {b for b in blocks if b + "\n\n" in expected or b in expected}
    return len(present), len(blocks) - len(set(blocks))


def bench_concurrency(role_arn: str) -> dict[str, Any]:
    admin = boto3.client("s3", region_name=REGION)
    out: dict[str, Any] = {}

    # Baseline: the original algorithm, header pre-created (as its Terraform did).
    lost = dups = 0
    started = time.perf_counter()
    for r in range(ROUNDS):
        key = f"baseline/round-{r}.txt"
        admin.put_object(Bucket=BUCKET, Key=key, Body=HEADER.encode())
        when = INVOKED_AT + r * STEP
        records = [position(when + timedelta(seconds=i), i) for i in range(WRITERS)]
        expected = {
            f"Time: {p.time.replace(tzinfo=None)}\nLatitude: {p.latitude}\nLongitude: {p.longitude}"
            for p in records
        }

        def invoke_original(i: int, key: str = key, records: list[Position] = records) -> None:
            original_invocation(boto3.Session(), role_arn, BUCKET, key, REGION, records[i])

        errors = race(invoke_original)
        present, duplicated = count_records(admin, key, expected)
        lost += WRITERS - present
        dups += duplicated
        assert not errors, errors
    out["baseline"] = {
        "writers": WRITERS,
        "rounds": ROUNDS,
        "records_lost": lost,
        "lost_per_round": round(lost / ROUNDS, 2),
        "duplicated": dups,
        "seconds": round(time.perf_counter() - started, 2),
    }

    # crosstrack: warm containers (one session cache each), conditional writes.
    containers = [
        CrossAccountSessions(source=botocore.session.Session(), sts_region=REGION)
        for _ in range(WRITERS)
    ]
    for i, container in enumerate(containers):  # warm them up, as containers that ran before
        container.s3(role_arn, session_name=f"crosstrack-bench-{i}", region=REGION)
    lost = dups = failures = max_attempts = 0
    started = time.perf_counter()
    for r in range(ROUNDS):
        key = f"crosstrack/round-{r}.txt"
        when = INVOKED_AT + r * STEP
        records = [position(when + timedelta(seconds=i), i) for i in range(WRITERS)]
        expected = {format_text_record(p) for p in records}
        attempts: list[int] = []

        def invoke(
            i: int,
            key: str = key,
            records: list[Position] = records,
            attempts: list[int] = attempts,
        ) -> None:
            # A warm invocation: cached credentials and client, then one append.
            s3 = containers[i].s3(role_arn, session_name=f"crosstrack-bench-{i}", region=REGION)
            result = Ledger(s3, BUCKET, key).append(records[i], event_id=f"{key}-{i}")
            attempts.append(result.attempts)

        errors = race(invoke)
        present, duplicated = count_records(admin, key, expected)
        lost += WRITERS - present
        dups += duplicated
        failures += len(errors)
        max_attempts = max([max_attempts, *attempts])
    out["crosstrack"] = {
        "writers": WRITERS,
        "rounds": ROUNDS,
        "records_lost": lost,
        "lost_per_round": round(lost / ROUNDS, 2),
        "duplicated": dups,
        "failed_invocations": failures,
        "max_attempts": max_attempts,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return out


def history(n: int) -> list[Position]:
    """``n`` records at 5-minute intervals, the newest 5 minutes before INVOKED_AT."""
    return [position(INVOKED_AT - STEP * k, k) for k in range(n, 0, -1)]


def bench_bytes(role_arn: str) -> dict[str, Any]:
    admin = boto3.client("s3", region_name=REGION)
    sessions = CrossAccountSessions(source=botocore.session.Session(), sts_region=REGION)
    s3 = s3_client(sessions.session(role_arn, session_name="crosstrack-bench"), REGION)
    rows: dict[str, Any] = {}
    for n in SIZES:
        past = history(n)
        lines = [format_text_record(p) for p in past]
        body = (HEADER + "".join(lines)).encode()
        now = position(INVOKED_AT, n)

        # Original algorithm on one object holding the whole history.
        admin.put_object(Bucket=BUCKET, Key=f"bytes/baseline-{n}.txt", Body=body)
        base = original_invocation(
            boto3.Session(), role_arn, BUCKET, f"bytes/baseline-{n}.txt", REGION, now
        )

        # crosstrack, single layout: the same whole-history object.
        admin.put_object(Bucket=BUCKET, Key=f"bytes/single-{n}.txt", Body=body)
        single = Ledger(s3, BUCKET, f"bytes/single-{n}.txt").append(now, event_id=f"s{n}")

        # crosstrack, daily layout: the history split into the objects it would have written.
        daily_ledger = Ledger(s3, BUCKET, f"bytes/daily-{n}.txt", layout="daily")
        by_key: dict[str, list[str]] = {}
        for p, line in zip(past, lines, strict=True):
            by_key.setdefault(daily_ledger.key_for(p.time), []).append(line)
        for key, day in by_key.items():
            admin.put_object(Bucket=BUCKET, Key=key, Body=(HEADER + "".join(day)).encode())
        daily = daily_ledger.append(now, event_id=f"d{n}")

        rows[str(n)] = {
            "baseline_bytes": base.bytes_read + base.bytes_written,
            "single_bytes": single.bytes_read + single.bytes_written,
            "daily_bytes": daily.bytes_read + daily.bytes_written,
            "daily_objects": len(by_key),
        }
    return rows


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        role_arn = setup(f"http://{host}:{port}")
        started = time.perf_counter()
        concurrency = bench_concurrency(role_arn)
        moved = bench_bytes(role_arn)
        seconds = round(time.perf_counter() - started, 1)
    finally:
        server.stop()

    result = {"concurrency": concurrency, "bytes_per_invocation": moved, "seconds": seconds}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "ledger.json").write_text(json.dumps(result, indent=2) + "\n")

    b, c = concurrency["baseline"], concurrency["crosstrack"]
    print(
        f"| ledger ({WRITERS} concurrent writers x {ROUNDS} rounds; moto server) "
        "| original | crosstrack |"
    )
    print("|---|---|---|")
    print(
        f"| records lost | {b['records_lost']} of {WRITERS * ROUNDS} "
        f"| {c['records_lost']} of {WRITERS * ROUNDS} |"
    )
    print(f"| records duplicated | {b['duplicated']} | {c['duplicated']} |")
    print(f"| most read-write rounds one writer needed | 1 | {c['max_attempts']} |")
    for n, row in moved.items():
        print(
            f"| S3 bytes per invocation, {int(n):,} records logged "
            f"| {row['baseline_bytes'] / 1000:,.1f} kB "
            f"| single {row['single_bytes'] / 1000:,.1f} kB; "
            f"daily {row['daily_bytes'] / 1000:,.1f} kB "
            f"({row['baseline_bytes'] / row['daily_bytes']:,.0f}x less) |"
        )


if __name__ == "__main__":
    main()
