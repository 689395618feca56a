"""`crosstrack log` and `crosstrack map` as a user runs them (CliRunner)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from logdata import jsonl_records, positions, text_records
from moto import mock_aws
from typer.testing import CliRunner

from crosstrack.cli import app
from crosstrack.reporter.ledger import HEADER, Ledger

runner = CliRunner()


def test_log_from_a_damaged_file_prints_the_rest_and_reports_lines(tmp_path: Path) -> None:
    log = tmp_path / "iss_position.txt"
    text = HEADER + text_records(positions(3)) + "oops\nTime: 2025-11-10 07:00:00\nLati"
    log.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["log", str(log), "--output", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["time"] for row in rows] == [
        "2025-11-10T06:00:00Z",
        "2025-11-10T06:05:00Z",
        "2025-11-10T06:10:00Z",
    ]
    assert all(row["source"] == "" and row["estimate"] == "" for row in rows)
    assert result.stderr.splitlines() == [
        f"{log}:16: not a log record: 'oops'",
        f"{log}:17: truncated last record (cut at 'Lati')",
    ]


def test_log_from_stdin_with_selection_as_json() -> None:
    result = runner.invoke(
        app,
        ["log", "-", "--output", "json", "--since", "2025-11-10T06:05:00Z", "--last", "2"],
        input=jsonl_records(positions(6)),
    )
    assert result.exit_code == 0, result.output
    times = [json.loads(line)["time"] for line in result.stdout.splitlines()]
    assert times == ["2025-11-10T06:20:00Z", "2025-11-10T06:25:00Z"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "xml"], "--output 'xml'"),
        (["--since", "last tuesday"], "--since 'last tuesday'"),
        (["--follow"], "cannot follow a FILE"),
    ],
)
def test_log_bad_flags_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text(HEADER, encoding="utf-8")
    result = runner.invoke(app, ["log", str(log), *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_log_unreadable_file_exit_2(tmp_path: Path) -> None:
    binary = tmp_path / "log.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = runner.invoke(app, ["log", str(binary)])
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr
    missing = runner.invoke(app, ["log", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.stderr


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="iss-reporting-cli")
        monkeypatch.setenv("BUCKET_NAME", "iss-reporting-cli")
        yield s3


def test_log_from_the_bucket_named_by_the_environment(bucket: Any, tmp_path: Path) -> None:
    ledger = Ledger(bucket, "iss-reporting-cli", "iss_position.txt", log_format="jsonl")
    for p in positions(3):
        ledger.append(p)
    result = runner.invoke(app, ["log", "--infra", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("2025-11-10 06:00:00")
    assert result.stdout.splitlines()[1].endswith("  tle")
    missing = runner.invoke(app, ["log", "--key", "other.txt"])
    assert missing.exit_code == 1
    assert "s3://iss-reporting-cli/other.txt does not exist" in missing.stderr


def test_map_from_stdin_writes_the_image_and_prints_its_path(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from PIL import Image

    out = tmp_path / "track.png"
    result = runner.invoke(
        app,
        ["map", "-", "-o", str(out), "--size", "640x360", "--last", "10"],
        input=jsonl_records(positions(19)),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    assert "10 record(s), 640x360 png" in result.stderr
    assert Image.open(out).size == (640, 360)
    bad = runner.invoke(app, ["map", "-", "--size", "big"], input=HEADER)
    assert bad.exit_code == 2
    assert "--size 'big'" in bad.stderr


def test_log_follow_prints_the_selection_then_only_new_records(
    bucket: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crosstrack.cli.log import Where, _follow
    from crosstrack.logbook.output import Renderer
    from crosstrack.logbook.select import Selection

    ledger = Ledger(bucket, "iss-reporting-cli", "iss_position.txt", log_format="jsonl")
    items = positions(4)
    ledger.append(items[0])
    ledger.append(items[1])

    def sleep(_: float) -> None:  # a new record arrives while the follower sleeps
        ledger.append(items[2 + len(slept)])
        slept.append(_)

    slept: list[float] = []
    where = Where(None, None, None, None, None, None, None, None, tmp_path)
    _follow(where, Selection(last=1), Renderer("csv"), 30, sleep=sleep, polls=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "time,latitude,longitude,source,estimate"
    assert [line.split(",")[0] for line in lines[1:]] == [
        "2025-11-10T06:05:00Z",  # --last 1 of what was there
        "2025-11-10T06:10:00Z",  # then each new record once
        "2025-11-10T06:15:00Z",
    ]
    assert slept == [30, 30]


@pytest.mark.parametrize("command", ["log", "map"])
def test_help_teaches_with_examples(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.stdout
    assert f"$ crosstrack {command} --profile account-b --since" in result.stdout
