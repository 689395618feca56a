"""Parse the log the reporter writes: both formats, the original's objects, damaged input.

One line-oriented parser reads everything (design.md, "Log object"):

* ``text``: the header (``ISS Location Logs`` and a line of ``=``), then records of three
  lines ``Time:``, ``Latitude:``, ``Longitude:``, separated by blank lines. The original's
  objects (the same header; the post's sample shows records without blank lines between
  them) parse the same way: blank lines are optional.
* ``jsonl``: one JSON object per line, as :func:`crosstrack.reporter.records.format_jsonl_record`
  writes it (``time``, ``latitude``, ``longitude``, ``source``, ``estimate``, ...).

Because the parser decides per line, a concatenation of daily objects, or this module's own
JSON output, parses too. A line it cannot use becomes a :class:`Problem` with its line
number and the rest still parses; an unfinished record at the very end is reported as a
truncated last record (a crash or a partial copy), never silently dropped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from crosstrack.reporter.records import HEADER

HEADER_LINES: Final = tuple(HEADER.splitlines()[:2])  # the title and its line of '='
TEXT_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
# Sources that are not a live measurement (crosstrack.reporter.positions.TLE).
OFFLINE_SOURCES: Final = frozenset({"tle"})
# JSON Lines keys a record always has; the others are provenance, kept as they are.
_CORE_KEYS: Final = ("time", "latitude", "longitude", "source", "estimate")
# A source is a name like the reporter's (open-notify, wheretheiss, tle): printable, short,
# starting with a letter or digit, so no record can smuggle terminal escapes into the text
# output or a spreadsheet formula (=, +, -, @) into the CSV.
_SOURCE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Values quoted in a problem message are cut to this many characters (a line may be 100 MB).
_SHOWN_CHARS: Final = 60


@dataclass(frozen=True)
class Record:
    """One logged position. ``source``/``estimate`` are ``None`` for text-format records,
    which carry no provenance; ``extra`` holds a JSON record's other fields (altitude,
    TLE epoch and age, event id) in their order."""

    time: datetime
    latitude: float
    longitude: float
    source: str | None = None
    estimate: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0  # where it starts in its object (1-based); 0 when not from a parse

    @property
    def offline(self) -> bool:
        """True when the position was computed from a TLE rather than measured live."""
        return self.source in OFFLINE_SOURCES


@dataclass(frozen=True)
class Problem:
    """A line that could not be used: where and why."""

    line: int
    message: str
    truncated: bool = False  # the unfinished last record, not garbage in the middle

    def describe(self, name: str) -> str:
        return f"{name}:{self.line}: {self.message}"


@dataclass(frozen=True)
class ParseResult:
    """What :func:`parse_log` found. ``settled_lines`` counts the leading lines that will
    never change meaning when more is appended (everything but a truncated last record)."""

    records: tuple[Record, ...]
    problems: tuple[Problem, ...]
    settled_lines: int


class _Bad(ValueError):
    pass


def shown(value: object) -> str:
    """``repr(value)``, cut to a readable length (a hostile line can be megabytes)."""
    if isinstance(value, str):
        cut = value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 3] + "..."
        return repr(cut)
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _coordinate(text: str, what: str, limit: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Bad(f"{what} {shown(text)} is not a number") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise _Bad(f"{what} {shown(text)} is outside [-{limit:g}, {limit:g}]")
    return value


def _text_time(text: str) -> datetime:
    try:
        return datetime.strptime(text, TEXT_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _Bad(f"time {shown(text)} is not YYYY-MM-DD HH:MM:SS") from None


def _json_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise _Bad(f"time {shown(value)} is not a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(f"time {shown(value)} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise _Bad(f"time {shown(value)} has no UTC offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 is before year 1 in UTC
        raise _Bad(f"time {shown(value)} is out of range in UTC") from None


def _no_constant(name: str) -> object:
    raise _Bad(f"not valid JSON ({name} is not a JSON number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise _Bad(f"not valid JSON (number {shown(text)} is out of range)")
    return value


def _loads(text: str) -> object:
    """``json.loads`` where every way a line can fail is a :class:`_Bad` line: deep nesting
    (RecursionError), a 5,000-digit integer (ValueError), NaN/Infinity (not JSON: RFC 8259,
    and they could not be written back as JSON)."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except _Bad:
        raise
    except json.JSONDecodeError as exc:
        raise _Bad(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise _Bad("not valid JSON (nested too deeply)") from None
    except ValueError as exc:
        raise _Bad(f"not valid JSON ({str(exc)[:_SHOWN_CHARS]})") from None


def _json_number(obj: Mapping[str, Any], key: str, limit: float) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"{key} {shown(value)} is not a number")
    try:
        number = float(value)
    except OverflowError:  # an integer of 400 digits
        raise _Bad(f"{key} {shown(value)} is outside [-{limit:g}, {limit:g}]") from None
    return _coordinate(repr(number), key, limit)


def _json_record(text: str, line: int) -> Record:
    obj = _loads(text)
    if not isinstance(obj, dict):
        raise _Bad("not a JSON object")
    missing = [k for k in ("time", "latitude", "longitude") if k not in obj]
    if missing:
        raise _Bad(f"JSON record without {', '.join(missing)}")
    source = obj.get("source")
    estimate = obj.get("estimate")
    if source is not None and not isinstance(source, str):
        raise _Bad(f"source {shown(source)} is not a string")
    if source and not _SOURCE.fullmatch(source):
        raise _Bad(f"source {shown(source)} is not a source name (letters, digits, . _ -)")
    if estimate is not None and not isinstance(estimate, bool):
        raise _Bad(f"estimate {shown(estimate)} is not true or false")
    return Record(
        time=_json_time(obj["time"]),
        latitude=_json_number(obj, "latitude", 90),
        longitude=_json_number(obj, "longitude", 180),
        source=source or None,
        estimate=estimate,
        extra={k: v for k, v in obj.items() if k not in _CORE_KEYS},
        line=line,
    )


_FIELDS: Final = ("Time", "Latitude", "Longitude")


def _field(text: str) -> tuple[str, str] | None:
    name, sep, value = text.partition(":")
    if sep and name in _FIELDS:
        return name, value.strip()
    return None


def _starts_a_field(text: str) -> bool:
    return any(f"{name}:".startswith(text) for name in _FIELDS)


class _Parser:
    """The line-by-line state: a text record being assembled, what was found so far."""

    def __init__(self, lines: list[str], ends_with_newline: bool) -> None:
        self.lines = lines
        self.open_end = not ends_with_newline  # the last line may have been cut off
        self.records: list[Record] = []
        self.problems: list[Problem] = []
        self.pending: list[tuple[int, str, str]] = []  # (line, field, value) so far
        self.settled = 0
        self.stopped = False

    def at_cut_end(self, number: int) -> bool:
        return self.open_end and number == len(self.lines)

    def flush_incomplete(self, reason: str) -> None:
        have = "/".join(name for _, name, _ in self.pending)
        self.problems.append(
            Problem(self.pending[0][0], f"incomplete record ({have} only): {reason}")
        )
        self.pending.clear()

    def line(self, number: int, stripped: str) -> None:
        if not stripped or stripped in HEADER_LINES:
            if not self.pending:
                self.settled = number
            return
        parsed = _field(stripped)
        if parsed is not None:
            self.text_field(number, *parsed)
            return
        if self.at_cut_end(number) and (self.pending or _starts_a_field(stripped)):
            # A field cut off mid-name ("Lati") ends the unfinished record: truncation.
            first = self.pending[0][0] if self.pending else number
            self.problems.append(
                Problem(first, f"truncated last record (cut at {shown(stripped)})", True)
            )
            self.pending.clear()
            self.stopped = True
            return
        if self.pending:
            self.flush_incomplete(f"line {number} is not a record line")
        if stripped.startswith("{"):
            try:
                self.records.append(_json_record(stripped, number))
            except _Bad as exc:
                self.bad(number, exc)
        else:
            self.problems.append(Problem(number, f"not a log record: {shown(stripped)}"))
        if not self.stopped:
            self.settled = number

    def bad(self, number: int, exc: _Bad) -> None:
        if self.at_cut_end(number):
            self.problems.append(Problem(number, f"truncated last record: {exc}", True))
            self.stopped = True
        else:
            self.problems.append(Problem(number, str(exc)))

    def text_field(self, number: int, name: str, value: str) -> None:
        if name != _FIELDS[len(self.pending)]:
            if self.pending:
                self.flush_incomplete(f"line {number} starts a {name} line")
            if name != "Time":
                self.problems.append(Problem(number, f"{name} line outside a record"))
                self.settled = number
                return
        self.pending.append((number, name, value))
        if len(self.pending) < len(_FIELDS):
            return
        first = self.pending[0][0]
        try:
            self.records.append(
                Record(
                    time=_text_time(self.pending[0][2]),
                    latitude=_coordinate(self.pending[1][2], "latitude", 90),
                    longitude=_coordinate(self.pending[2][2], "longitude", 180),
                    line=first,
                )
            )
        except _Bad as exc:
            self.bad(first if not self.at_cut_end(number) else number, exc)
        self.pending.clear()
        if not self.stopped:
            self.settled = number

    def finish(self) -> ParseResult:
        if self.pending:
            have = "/".join(n for _, n, _ in self.pending)
            self.problems.append(
                Problem(self.pending[0][0], f"truncated last record ({have} only)", True)
            )
        return ParseResult(tuple(self.records), tuple(self.problems), self.settled)


def parse_log(text: str) -> ParseResult:
    """Every record of ``text`` (any format, any mix), and every line that was not one."""
    lines = text.split("\n")
    ends_with_newline = text.endswith("\n")
    if ends_with_newline:
        lines.pop()  # the empty string after the final newline is not a line
    parser = _Parser(lines, ends_with_newline)
    for number, raw in enumerate(lines, start=1):
        parser.line(number, raw.strip())
    return parser.finish()
