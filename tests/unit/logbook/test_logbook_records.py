"""Parsing the log: both formats as the reporter writes them, the original's object, damage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from logdata import jsonl_records, live, positions, text_records

from crosstrack.logbook.records import parse_log
from crosstrack.reporter.ledger import HEADER, format_text_record
from crosstrack.reporter.positions import Position


def test_text_format_as_the_reporter_writes_it() -> None:
    items = positions(4)
    result = parse_log(HEADER + text_records(items))
    assert result.problems == ()
    assert [r.time for r in result.records] == [p.time for p in items]
    for record, position in zip(result.records, items, strict=True):
        assert record.latitude == round(position.latitude, 4)
        assert record.longitude == round(position.longitude, 4)
        assert record.source is None  # the text format carries no provenance
        assert record.estimate is None
    assert [r.line for r in result.records] == [4, 8, 12, 16]


def test_jsonl_format_keeps_provenance() -> None:
    items = [*positions(2), live(positions(3)[2])]
    result = parse_log(jsonl_records(items))
    assert result.problems == ()
    assert [r.source for r in result.records] == ["tle", "tle", "open-notify"]
    assert [r.offline for r in result.records] == [True, True, False]
    assert result.records[0].latitude == items[0].latitude  # full precision
    assert result.records[0].extra["event_id"] == "event-0"
    assert result.records[0].extra["altitude_km"] == pytest.approx(items[0].altitude_km)
    assert result.records[2].estimate is False


def test_object_written_by_the_original() -> None:
    # The post's sample: the same header, no blank line after it or between records.
    original = (
        "ISS Location Logs\n===================\n"
        "Time: 2025-12-06 17:19:45\nLatitude: -50.5587\nLongitude: 122.1887\n"
        "Time: 2025-12-06 17:29:07\nLatitude: -32.9030\nLongitude: 163.3656\n"
    )
    result = parse_log(original)
    assert result.problems == ()
    assert [(r.time, r.latitude, r.longitude) for r in result.records] == [
        (datetime(2025, 12, 6, 17, 19, 45, tzinfo=UTC), -50.5587, 122.1887),
        (datetime(2025, 12, 6, 17, 29, 7, tzinfo=UTC), -32.903, 163.3656),
    ]


def test_original_object_appended_to_by_crosstrack() -> None:
    original = "ISS Location Logs\n===================\nTime: 2025-12-06 17:19:45\n"
    original += "Latitude: -50.5587\nLongitude: 122.1887\n"
    appended = original + "\n" + text_records(positions(2))  # the ledger's separator
    result = parse_log(appended)
    assert result.problems == ()
    assert len(result.records) == 3


def test_daily_objects_concatenated_parse_as_one_log() -> None:
    day1 = HEADER + text_records(positions(2))
    day2 = HEADER + text_records(positions(2, step_minutes=60 * 24))
    result = parse_log(day1 + day2)
    assert result.problems == ()
    assert len(result.records) == 4


@pytest.mark.parametrize("cut", [10, 25, 40])
def test_truncated_last_text_record_is_reported_and_the_rest_kept(cut: int) -> None:
    full = HEADER + text_records(positions(3))
    last_start = full.rindex("Time:")
    damaged = full[: last_start + cut]  # the last record cut off mid-way
    result = parse_log(damaged)
    assert len(result.records) == 2
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.truncated
    assert problem.line == 12
    assert "truncated last record" in problem.message
    assert result.settled_lines == 11  # the lines before the cut record


def test_truncated_last_jsonl_record() -> None:
    full = jsonl_records(positions(3))
    damaged = full[: len(full) - 30]
    result = parse_log(damaged)
    assert len(result.records) == 2
    assert [(p.line, p.truncated) for p in result.problems] == [(3, True)]
    assert "truncated last record" in result.problems[0].message
    assert result.settled_lines == 2


def test_garbage_lines_are_reported_by_line_number_and_skipped() -> None:
    lines = jsonl_records(positions(3)).splitlines()
    lines.insert(1, "hello there")
    lines.insert(3, '{"time": "2025-11-10T06:00:00Z", "latitude": 91, "longitude": 0}')
    lines.insert(4, "[1, 2]")
    lines.insert(5, '{"time": "yesterday", "latitude": 1, "longitude": 2}')
    result = parse_log("\n".join(lines) + "\n")
    assert len(result.records) == 3
    assert [(p.line, p.truncated) for p in result.problems] == [
        (2, False),
        (4, False),
        (5, False),
        (6, False),
    ]
    messages = [p.message for p in result.problems]
    assert "not a log record" in messages[0]
    assert "latitude" in messages[1]
    assert "outside" in messages[1]
    assert "not ISO 8601" in messages[3]


def test_garbage_inside_a_text_record() -> None:
    text = HEADER + (
        "Time: 2025-11-10 06:00:00\nLatitude: 1.0000\n<<<<<<< HEAD\nLongitude: 2.0000\n\n"
        "Time: 2025-11-10 06:05:00\nLatitude: north\nLongitude: 3.0000\n\n"
        "Time: 2025-11-10 06:10:00\nLatitude: 4.0000\nLongitude: 5.0000\n\n"
    )
    result = parse_log(text)
    assert [(r.latitude, r.longitude) for r in result.records] == [(4.0, 5.0)]
    assert [p.line for p in result.problems] == [4, 6, 7, 9]
    assert "incomplete record" in result.problems[0].message
    assert "outside a record" in result.problems[2].message
    assert "not a number" in result.problems[3].message


def test_empty_and_header_only_objects_have_no_records_and_no_problems() -> None:
    for text in ("", HEADER, HEADER[:-1], "ISS Location Logs\n==================="):
        result = parse_log(text)
        assert result.records == ()
        assert result.problems == ()


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**9),
            st.floats(min_value=-90, max_value=90),
            st.floats(min_value=-180, max_value=180),
        ),
        max_size=20,
    )
)
def test_every_text_record_the_reporter_can_write_parses_back(
    rows: list[tuple[int, float, float]],
) -> None:
    items = [
        Position(datetime.fromtimestamp(t, UTC), lat, lon, "open-notify") for t, lat, lon in rows
    ]
    result = parse_log(HEADER + "".join(format_text_record(p) for p in items))
    assert result.problems == ()
    assert [(r.time, r.latitude, r.longitude) for r in result.records] == [
        (p.time, float(f"{p.latitude:.4f}"), float(f"{p.longitude:.4f}")) for p in items
    ]
