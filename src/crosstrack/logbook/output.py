"""Render records as ``text`` (one aligned line each), ``json`` (JSON Lines) or ``csv``.

Renderers are streaming (a header once, then a line per record) so ``--follow`` can print
records as they arrive. JSON Lines records have the reporter's ``jsonl`` shape, so
``crosstrack log`` reads its own JSON output back; CSV has the header
``time,latitude,longitude,source,estimate`` (source and estimate empty for text-format
records, which carry no provenance). Times are ISO 8601 UTC with ``Z``. A text cell that
a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR)
gets a leading ``'`` (OWASP, "CSV Injection"); the parser already refuses such sources, this
keeps any other caller's records safe too.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Final, Literal

from crosstrack.logbook.records import Record

OutputFormat = Literal["text", "json", "csv"]
OUTPUT_FORMATS: Final = ("text", "json", "csv")
CSV_HEADER: Final = ("time", "latitude", "longitude", "source", "estimate")
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def iso_z(record: Record) -> str:
    return record.time.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(record: Record) -> str:
    provenance = ""
    if record.source is not None:
        provenance = f"  {record.source}{' (estimate)' if record.estimate else ''}"
    return (
        f"{record.time:%Y-%m-%d %H:%M:%S}  "
        f"{record.latitude:9.4f}  {record.longitude:9.4f}{provenance}"
    )


def _json(record: Record) -> str:
    obj: dict[str, object] = {
        "time": iso_z(record),
        "latitude": record.latitude,
        "longitude": record.longitude,
        "source": record.source,
        "estimate": record.estimate,
        **record.extra,
    }
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def _cell(value: object) -> object:
    # Only text cells: numbers (a negative latitude) are never formulas.
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv(*row: object) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([_cell(v) for v in row])
    return buffer.getvalue()


@dataclass(frozen=True)
class Renderer:
    """``header()`` once (may be ``None``), then ``line(record)`` per record."""

    output: OutputFormat

    def header(self) -> str | None:
        if self.output == "csv":
            return _csv(*CSV_HEADER)
        if self.output == "text":
            return f"{'time (UTC)':<19}  {'latitude':>9}  {'longitude':>9}"
        return None

    def line(self, record: Record) -> str:
        if self.output == "json":
            return _json(record)
        if self.output == "csv":
            estimate = "" if record.estimate is None else str(record.estimate).lower()
            return _csv(
                iso_z(record), record.latitude, record.longitude, record.source or "", estimate
            )
        return _text(record)
