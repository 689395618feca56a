"""Hostile input to `crosstrack log` and `crosstrack map`: each ends in a clear message
(a skipped line on stderr, or one `Error:` line with exit code 2), never a traceback."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crosstrack.cli import app
from crosstrack.logbook import worldmap
from crosstrack.logbook.errors import LogbookInputError
from crosstrack.logbook.output import Renderer
from crosstrack.logbook.records import Record, parse_log
from crosstrack.logbook.select import parse_when, utc_now

runner = CliRunner()
GOOD = '{"time":"2026-01-01T00:00:00Z","latitude":1.5,"longitude":2.5,"source":"tle"}'


def _record(**fields: object) -> str:
    obj: dict[str, object] = {"time": "2026-01-01T00:05:00Z", "latitude": 3, "longitude": 4}
    obj.update(fields)
    return json.dumps(obj)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        # 100,000 nested arrays: json raises RecursionError, not JSONDecodeError.
        ('{"time":"2026-01-01T00:05:00Z","x":' + "[" * 100_000 + "]" * 100_000 + "}", "JSON"),
        # A 5,000-digit integer: ValueError from int(), not JSONDecodeError.
        ('{"time":"2026-01-01T00:05:00Z","latitude":1' + "0" * 5000 + ',"longitude":2}', "JSON"),
        # NaN / Infinity are not JSON (RFC 8259) and could not be written back as JSON.
        ('{"time":"2026-01-01T00:05:00Z","latitude":1,"longitude":2,"alt":NaN}', "JSON"),
        ('{"time":"2026-01-01T00:05:00Z","latitude":1,"longitude":2,"alt":1e999}', "JSON"),
        # A time whose offset moves it out of datetime's range.
        ('{"time":"0001-01-01T00:00:00+05:00","latitude":1,"longitude":2}', "time"),
        ('{"time":"9999-12-31T23:59:59-05:00","latitude":1,"longitude":2}', "time"),
        (_record(latitude=9999), "latitude"),
        (_record(latitude="1.0"), "latitude"),
        (_record(source='=HYPERLINK("http://evil")'), "source"),
        (_record(source="\x1b[2Jred\nTime: 2020"), "source"),
        (_record(source="x" * 500), "source"),
    ],
)
def test_a_hostile_json_line_is_skipped_and_the_rest_parses(line: str, why: str) -> None:
    result = parse_log(f"{GOOD}\n{line}\n{GOOD}\n")
    assert len(result.records) == 2
    assert [p.line for p in result.problems] == [2]
    message = result.problems[0].message
    assert why in message
    assert len(message) < 300  # never the payload itself


def test_a_huge_text_field_is_reported_briefly() -> None:
    text = "Time: 2026-01-01 00:00:00\nLatitude: " + "9" * 1_000_000 + "\nLongitude: 2\n"
    result = parse_log(text)
    assert result.records == ()
    assert len(result.problems) == 1
    assert len(result.problems[0].message) < 300


def test_records_with_hostile_fields_never_break_json_or_csv_output(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    lines = [GOOD, _record(altitude=float("nan")), _record(note="=1+2")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for output in ("json", "csv", "text"):
        result = runner.invoke(app, ["log", str(path), "--output", output])
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
    result = runner.invoke(app, ["log", str(path), "--output", "json"])
    assert [json.loads(x)["time"] for x in result.stdout.splitlines()] == [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:05:00Z",
    ]


def test_csv_neutralises_a_formula_in_a_text_field() -> None:
    # OWASP "CSV Injection": a cell starting with = + - @ (or tab/CR) runs as a formula.
    record = Record(time=utc_now(), latitude=-1.0, longitude=2.0, source="@SUM(1)")
    row = next(csv.reader(io.StringIO(Renderer("csv").line(record))))
    assert row[3] == "'@SUM(1)"
    assert row[1] == "-1.0"  # numbers stay numbers


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_time_flag_out_of_range_is_a_usage_error(text: str) -> None:
    with pytest.raises(LogbookInputError, match="out of range"):
        parse_when(text, flag="--since", now=utc_now())
    result = runner.invoke(app, ["log", "-", "--since", text], input=GOOD + "\n")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_map_refuses_a_suffix_it_would_not_write(tmp_path: Path) -> None:
    with pytest.raises(LogbookInputError, match=r"\.gif"):
        worldmap.format_for(tmp_path / "a.gif", None)
    with pytest.raises(LogbookInputError, match="svg"):
        worldmap.format_for(tmp_path / "a.png", "svg")
    assert worldmap.format_for(tmp_path / "a.SVG", None) == "svg"


def test_map_into_a_path_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(GOOD + "\n", encoding="utf-8")
    result = runner.invoke(app, ["map", str(log), "-o", str(log / "map.png")])
    assert result.exit_code == 2, result.output
    assert "cannot write" in result.output
    assert log.read_text(encoding="utf-8") == GOOD + "\n"  # nothing destroyed
