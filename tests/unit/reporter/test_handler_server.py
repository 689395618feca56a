"""The handler end to end against a moto server holding both accounts, as deployed.

Role A's keys play the Lambda execution role; the handler assumes role B in account
222222222222 and writes to the bucket there. ISS sources are served from 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crosstrack.reporter import handler
from crosstrack.reporter.errors import AllSourcesFailedError, ConfigError
from crosstrack.reporter.ledger import HEADER

CROSSTRACK = Path(sys.executable).with_name("crosstrack")


class Context:
    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())


def open_notify(lat: str, lon: str, when: datetime) -> bytes:
    return json.dumps(
        {
            "message": "success",
            "timestamp": int(when.timestamp()),
            "iss_position": {"latitude": lat, "longitude": lon},
        }
    ).encode()


def scheduled_event() -> dict[str, str]:
    return {"execution_id": str(uuid.uuid4()), "scheduled_time": "2026-11-27T23:05:00Z"}


@pytest.fixture
def deployed(two_accounts: Any, http_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Lambda's environment for role A, with open-notify served locally."""
    two_accounts.use_lambda_env(monkeypatch)
    monkeypatch.setenv("ISS_SOURCES", "open-notify")
    handler.reset()
    yield two_accounts
    handler.reset()


def start(server: Any, **env: str) -> None:
    handler.init({**os.environ, **env}, urls={"open-notify": server.url("/iss-now.json")})


def test_first_run_creates_header_and_appends_byte_exact_record(
    deployed: Any, http_server: Any
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    http_server.serve("/iss-now.json", open_notify("-50.5587", "122.1887", now))
    start(http_server)

    result = handler.lambda_handler(scheduled_event(), Context())

    record = f"Time: {now:%Y-%m-%d %H:%M:%S}\nLatitude: -50.5587\nLongitude: 122.1887\n\n"
    assert result["statusCode"] == 200
    assert result["created"] is True
    assert result["source"] == "open-notify"
    assert result["record"] == record
    assert deployed.read_object() == (HEADER + record).encode()
    s3 = deployed.admin_b().client("s3", endpoint_url=deployed.endpoint)
    head = s3.head_object(Bucket=deployed.bucket, Key=deployed.object_key)
    assert head["ContentType"] == "text/plain; charset=utf-8"


def test_replayed_event_is_recorded_once(deployed: Any, http_server: Any) -> None:
    http_server.serve("/iss-now.json", open_notify("10.0000", "20.0000", datetime.now(UTC)))
    start(http_server)
    event = scheduled_event()

    first = handler.lambda_handler(event, Context())
    before = deployed.read_object()
    again = handler.lambda_handler(event, Context())

    assert first["duplicate"] is False
    assert again["duplicate"] is True
    assert "already recorded" in again["body"]
    assert deployed.read_object() == before
    assert before.count(b"Latitude: 10.0000") == 1


def test_warm_invocations_assume_role_b_once(
    deployed: Any, http_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    http_server.serve("/iss-now.json", open_notify("1.0000", "2.0000", datetime.now(UTC)))
    start(http_server)

    for _ in range(10):
        handler.lambda_handler(scheduled_event(), Context())

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["outcome"] for line in lines] == ["appended"] * 10
    assert [line["sts_calls"] for line in lines] == [1] * 10
    assert deployed.read_object().count(b"Latitude: 1.0000") == 10


def test_all_sources_failing_leaves_the_log_byte_identical(
    deployed: Any, http_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    http_server.serve("/iss-now.json", open_notify("1.0000", "2.0000", datetime.now(UTC)))
    start(http_server)
    handler.lambda_handler({}, Context())
    before = deployed.read_object()
    capsys.readouterr()

    http_server.serve("/iss-now.json", b"upstream timeout", status=504)
    http_server.serve("/v1/satellites/25544", b"{}", status=500)
    handler.init(
        {**os.environ, "ISS_SOURCES": "open-notify,wheretheiss"},
        urls={
            "open-notify": http_server.url("/iss-now.json"),
            "wheretheiss": http_server.url("/v1/satellites/25544"),
        },
    )
    with pytest.raises(AllSourcesFailedError) as info:
        handler.lambda_handler(scheduled_event(), Context())

    assert set(info.value.failures) == {"open-notify", "wheretheiss"}
    assert deployed.read_object() == before
    line = json.loads(capsys.readouterr().out.strip())
    assert line["outcome"] == "error"
    assert line["error"] == "AllSourcesFailedError"
    assert "HTTP 504" in line["reason"]
    assert "HTTP 500" in line["reason"]


def test_bad_setting_fails_before_any_aws_call(
    deployed: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "csv")
    with pytest.raises(ConfigError, match=r"^LOG_FORMAT='csv': not a known value"):
        handler.lambda_handler({}, Context())
    line = json.loads(capsys.readouterr().out.strip())
    assert (line["outcome"], line["error"]) == ("error", "ConfigError")
    s3 = deployed.admin_b().client("s3", endpoint_url=deployed.endpoint)
    assert s3.list_objects_v2(Bucket=deployed.bucket).get("KeyCount") == 0


def test_cli_invoke_runs_one_invocation_through_the_entry_point(deployed: Any) -> None:
    # Offline, the bundled TLE is all there is, and it is over a year old: allow it.
    env = {**os.environ, "ISS_SOURCES": "tle", "MAX_TLE_AGE_DAYS": "36500"}
    proc = subprocess.run(
        [str(CROSSTRACK), "invoke", "--scheduled"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["source"] == "tle"
    assert result["created"] is True
    assert json.loads(proc.stderr.strip().splitlines()[-1])["outcome"] == "appended"
    assert deployed.read_object().startswith(HEADER.encode() + b"Time: ")


def test_cli_invoke_reports_a_bad_setting_and_exits_1(deployed: Any) -> None:
    env = {**os.environ, "BUCKET_REGION": "Mars"}
    proc = subprocess.run(
        [str(CROSSTRACK), "invoke"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    first, *rest = proc.stderr.splitlines()
    assert json.loads(first)["outcome"] == "error"  # the handler's own log line
    # ...then one plain error line from the CLI, and no traceback.
    assert rest == [
        "Error: BUCKET_REGION='Mars': not an AWS region code; expected a region such as us-east-1"
    ]
    assert "BUCKET_REGION='Mars': not an AWS region code; expected a region such as us-east-1" in (
        proc.stderr
    )
    assert proc.stdout == ""
