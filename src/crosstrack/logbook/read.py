"""Gather the records of a selection from a file, stdin or the bucket, reporting bad lines."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from crosstrack.logbook.records import ParseResult, Record, parse_log
from crosstrack.logbook.select import Selection
from crosstrack.logbook.source import S3Log, decode, read_local

Warn = Callable[[str], None]


def report(name: str, result: ParseResult, warn: Warn) -> None:
    """One stderr line per unusable line: ``<object>:<line>: <why>``."""
    for problem in result.problems:
        warn(problem.describe(name))


def from_text(name: str, text: str, warn: Warn) -> list[Record]:
    result = parse_log(text)
    report(name, result, warn)
    return list(result.records)


def read_file(path: str, warn: Warn) -> list[Record]:
    """The records of a local file, or of stdin for ``-``."""
    name, text = read_local(path)
    return from_text(name, text, warn)


def read_bucket(
    log: S3Log,
    selection: Selection,
    now: datetime,
    warn: Warn,
    *,
    exclude: Collection[str] = (),
) -> list[Record]:
    """The records of every object the selection window covers, oldest object first."""
    records: list[Record] = []
    for fetched in log.read(selection.since, selection.until, now, exclude=exclude):
        if fetched.body is None:
            continue
        name = f"s3://{log.location.bucket}/{fetched.key}"
        records.extend(from_text(name, decode(name, fetched.body), warn))
    return records
