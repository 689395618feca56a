"""Selection flags and the three outputs: CSV and JSON Lines are valid and round-trip."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from logdata import jsonl_records, live, positions, text_records

from crosstrack.errors import InputError
from crosstrack.logbook.output import CSV_HEADER, Renderer
from crosstrack.logbook.records import parse_log
from crosstrack.logbook.select import Selection, parse_when
from crosstrack.reporter.ledger import HEADER

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", NOW - timedelta(minutes=90)),
        ("6h", NOW - timedelta(hours=6)),
        ("2d", NOW - timedelta(days=2)),
        ("2026-11-27T10:00:00Z", datetime(2026, 11, 27, 10, tzinfo=UTC)),
        ("2026-11-27T10:00:00", datetime(2026, 11, 27, 10, tzinfo=UTC)),
        ("2026-11-27", datetime(2026, 11, 27, tzinfo=UTC)),
        ("2026-11-27T12:00:00+02:00", datetime(2026, 11, 27, 10, tzinfo=UTC)),
    ],
)
def test_since_and_until_forms(text: str, expected: datetime) -> None:
    assert parse_when(text, flag="--since", now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "5 minutes", "-3h", "2026-13-01", ""])
def test_bad_times_are_input_errors(text: str) -> None:
    with pytest.raises(InputError, match="--since") as info:
        parse_when(text, flag="--since", now=NOW)
    assert info.value.exit_code == 2


def test_since_after_until_is_an_input_error() -> None:
    with pytest.raises(InputError, match="after --until"):
        Selection.from_flags("1h", "2h", None, now=NOW)


def test_selection_window_then_last() -> None:
    records = parse_log(jsonl_records(positions(10))).records
    chosen = Selection.from_flags(
        records[2].time.isoformat(), records[7].time.isoformat(), 3, now=NOW
    )
    assert [r.time for r in chosen.apply(records)] == [r.time for r in records[5:8]]


def _rendered(output: str, records: object) -> str:
    renderer = Renderer(output)  # type: ignore[arg-type]
    lines = [renderer.header()] if renderer.header() else []
    lines += [renderer.line(r) for r in records]  # type: ignore[attr-defined]
    return "\n".join(lines) + "\n"


def test_csv_is_valid_with_the_documented_header_and_round_trips() -> None:
    items = positions(3)
    mixed = parse_log(jsonl_records([items[0], live(items[1])])).records
    plain = parse_log(HEADER + text_records([items[2]])).records
    records = [*mixed, *plain]
    rows = list(csv.reader(io.StringIO(_rendered("csv", records))))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1][3:] == ["tle", "false"]
    assert rows[2][3:] == ["open-notify", "false"]
    assert rows[3][3:] == ["", ""]  # text-format records: no provenance
    for row, record in zip(rows[1:], records, strict=True):
        assert datetime.fromisoformat(row[0]) == record.time
        assert float(row[1]) == record.latitude  # repr round-trips a float exactly
        assert float(row[2]) == record.longitude


def test_json_lines_are_valid_and_read_back_as_the_same_records() -> None:
    items = positions(3)
    records = [
        *parse_log(jsonl_records([items[0], live(items[1])])).records,
        *parse_log(HEADER + text_records([items[2]])).records,
    ]
    out = _rendered("json", records)
    for line in out.splitlines():
        assert isinstance(json.loads(line), dict)
    again = parse_log(out)
    assert again.problems == ()
    strip = [
        (r.time, r.latitude, r.longitude, r.source, r.estimate, dict(r.extra)) for r in records
    ]
    assert [
        (r.time, r.latitude, r.longitude, r.source, r.estimate, dict(r.extra))
        for r in again.records
    ] == strip


def test_text_output_is_one_aligned_line_per_record() -> None:
    records = parse_log(jsonl_records(positions(2))).records
    lines = _rendered("text", records).splitlines()
    assert lines[0].startswith("time (UTC)")
    assert lines[1].startswith("2025-11-10 06:00:00")
    assert lines[1].endswith("tle")
    assert len({len(line.split("  tle")[0]) for line in lines[1:]}) == 1
